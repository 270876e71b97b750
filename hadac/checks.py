"""Semantic checks: from a parsed spec to a `Problem`, reporting every problem in one pass.

Order matters only where a later check needs an earlier one's result (data columns need the
targets' names); otherwise each check runs and reports on its own, so the user sees all
errors at once.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from hadac import ast, benchspec, carbon, conformal, datafile, fit, solvers, surrogates
from hadac.datafile import Table
from hadac.domains import InputDomain
from hadac.errors import Reporter
from hadac.lets import lower_lets
from hadac.parser import parse_file
from hadac.problem import (
    AlgorithmInfo,
    Bound,
    Goal,
    HardwareInfo,
    Pair,
    ParamDomain,
    Problem,
    SharedData,
    TargetInfo,
)
from hadac.units import Op, Typer, evaluate, names_in, parse_unit

MAX_SET_VALUES = 100_000


def check(
    spec: ast.Spec, read_data: bool = True, location: str | None = None
) -> tuple[Problem, Reporter]:
    """Check `spec`; raise `HadacError` with every error found, else the problem and warnings.

    `read_data=False` leaves the data files alone (no pairs): `hadac bench` writes them.
    `location` (an ISO 3166 alpha-3 code) puts every hardware there, for its carbon intensity.
    """
    reporter = Reporter(spec.path, spec.source)
    _duplicates(spec, reporter)
    hardware = [_hardware(h, reporter) for h in spec.hardware]
    hardware, has_intensity = carbon.resolve(spec, hardware, reporter, location)
    algorithms = [_algorithm(a, reporter) for a in spec.algorithms]
    _inputs_agree(spec, algorithms, reporter)
    targets = [t for t in (_target(t, reporter) for t in spec.targets) if t is not None]
    units = _expression_units(spec, targets, reporter)
    if has_intensity and carbon.ATTRIBUTE not in {t.name for t in spec.targets}:
        units[carbon.ATTRIBUTE] = carbon.unit()
    invalid = frozenset(t.name for t in spec.targets) - {t.name for t in targets}
    typer = Typer(units, reporter, invalid)
    lets = lower_lets(spec, typer, reporter)
    goal = _goal(spec, typer, reporter)
    bounds = [b for b in (_bound(c, typer, spec) for c in spec.constraints) if b is not None]
    _attributes_defined(spec, goal, bounds, reporter, lets)
    carbon.check_used(spec, hardware, goal, bounds, lets, reporter)
    solver = _solver(spec, reporter)
    pairs, shared = _pairs(spec, algorithms, targets, reporter) if read_data else ([], [])
    if read_data:  # `hadac bench` measures the declared hardware, not one entry per location
        hardware, pairs = carbon.expand(spec, hardware, pairs, reporter)
        _enough_to_calibrate(spec, bounds, pairs, targets, reporter)
    if not spec.hardware:
        reporter.error(None, "the spec declares no hardware")
    if not spec.targets:
        reporter.error(None, "the spec declares no target")
    reporter.raise_if_errors()
    problem = Problem(
        spec,
        hardware,
        algorithms,
        pairs,
        targets,
        goal,
        bounds,
        solver,
        units,
        lets,
        location,
        shared,
    )
    return problem, reporter


def _enough_to_calibrate(spec: ast.Spec, bounds, pairs, targets, reporter: Reporter) -> None:
    """A `with confidence` bound needs, on every pair, enough holdout rows (the fifth of
    the data that fitting sets aside) for its conformal quantile to be finite."""
    names = {t.name for t in targets}
    for bound in bounds:
        if bound.confidence is None:
            continue
        terms = len(names_in(bound.expr) & names)
        need = conformal.rows_needed((1.0 - bound.confidence) / max(1, terms))
        constraint = next(c for c in spec.constraints if c.pos.line == bound.line)
        for pair in pairs:
            holdout = math.ceil(fit.HOLDOUT * len(pair.table))
            if holdout < need:
                reporter.error(
                    constraint.confidence_pos or constraint.pos,
                    f"confidence {bound.confidence:g} needs at least {need} holdout rows per pair"
                    f" ({fit.HOLDOUT:g} of the data); {pair.algorithm} on {pair.hardware} has"
                    f" {holdout} of {len(pair.table)} rows",
                    len(f"{bound.confidence:g}"),
                )
                break


def _duplicates(spec: ast.Spec, reporter: Reporter) -> None:
    def unique(items, what, where=""):
        seen: dict[str, ast.Pos] = {}
        for item in items:
            name = item.hardware if isinstance(item, ast.DataBinding) else item.name
            if name in seen:
                first = seen[name]
                reporter.error(
                    item.pos,
                    f"duplicate {what} '{name}'{where} (first declared at line {first.line})",
                    len(name),
                )
            else:
                seen[name] = item.pos

    unique(spec.hardware, "hardware")
    unique(spec.algorithms, "algorithm")
    unique(spec.targets, "target")
    for hw in spec.hardware:
        unique(hw.attributes, "attribute", f" in hardware '{hw.name}'")
    for algorithm in spec.algorithms:
        unique(algorithm.params, "param", f" in algorithm '{algorithm.name}'")
        unique(algorithm.inputs, "input", f" in algorithm '{algorithm.name}'")
        params = {p.name: p.pos for p in algorithm.params}
        for item in algorithm.inputs:
            if item.name in params:
                reporter.error(
                    item.pos,
                    f"input '{item.name}' has the name of a param of '{algorithm.name}'"
                    f" (line {params[item.name].line}): a column is either chosen or given",
                    len(item.name),
                )
        bindings = [d for d in algorithm.data if d.hardware is not None]
        unique(bindings, "data binding for hardware", f" in algorithm '{algorithm.name}'")
        shared = [d for d in algorithm.data if d.hardware is None]
        for extra in shared[1:]:
            reporter.error(
                extra.pos,
                f"a second hardware-independent data file in algorithm '{algorithm.name}'"
                f" (the first is at line {shared[0].pos.line}): put its columns in one file",
                len("data"),
            )


def _hardware(hw: ast.Hardware, reporter: Reporter) -> HardwareInfo:
    numbers: dict[str, float] = {}
    strings: dict[str, str | tuple[str, ...]] = {}
    for attr in hw.attributes:
        if isinstance(attr.value, ast.Quantity):
            if attr.value.unit is not None:
                try:
                    parse_unit(attr.value.unit)
                except ValueError as err:
                    reporter.error(attr.value.pos, str(err))
            numbers[attr.name] = attr.value.value
        else:
            strings[attr.name] = attr.value
    _location(hw, strings.get("location"), reporter)
    cores = hw.attribute("cores")
    if cores is not None and not (
        isinstance(cores.value, ast.Quantity) and cores.value.is_int and cores.value.value >= 1
    ):
        reporter.error(cores.pos, "cores must be a positive integer", len("cores"))
    return HardwareInfo(hw.name, numbers, strings, hw.pos.line)


def _location(hw: ast.Hardware, location, reporter: Reporter) -> None:
    """`location` is a code like "ITA" or a set of distinct codes."""
    attribute = hw.attribute("location")
    if attribute is None:
        return
    if isinstance(attribute.value, ast.Quantity):
        reporter.error(
            attribute.pos,
            'location must be an ISO 3166 alpha-3 code in quotes, like "ITA", or a set of'
            ' them, like {"ITA", "FRA"}',
            len("location"),
        )
        return
    codes = (location,) if isinstance(location, str) else location
    for index, code in enumerate(codes):
        if not carbon.is_code(code):
            message = f"location '{code}' is not an ISO 3166 alpha-3 code like \"ITA\""
        elif code in codes[:index]:
            message = f"location '{code}' is listed twice"
        else:
            continue
        reporter.error(attribute.pos, message, len("location"))


def _algorithm(algorithm: ast.Algorithm, reporter: Reporter) -> AlgorithmInfo:
    params = tuple(p for p in (_param(p, reporter) for p in algorithm.params) if p is not None)
    if all(d.hardware is None for d in algorithm.data):
        reporter.error(
            algorithm.pos,
            f"algorithm '{algorithm.name}' has no data: bind benchmarks with"
            f' data HARDWARE = "file.csv"',
            len(algorithm.name),
        )
    bench = benchspec.validate(algorithm, params, reporter)
    inputs = tuple(i for i in (_input(i, reporter) for i in algorithm.inputs) if i is not None)
    return AlgorithmInfo(algorithm.name, params, algorithm.pos.line, bench, inputs)


def _input(item: ast.Input, reporter: Reporter) -> InputDomain | None:
    """An input's range and default: a range of the declared type, the default inside it."""
    domain = item.domain
    if item.type == "str":
        reporter.error(
            item.pos,
            f"input '{item.name}' is a feature of the instance: its type is int or float",
            len(item.name),
        )
        return None
    if not isinstance(domain, ast.Range):
        reporter.error(
            domain.pos,
            f"input '{item.name}' takes a range A..B, not a set of values: its value is"
            " given when solving, and the range says where the data hold it",
        )
        return None
    low, high = domain.low, domain.high
    if item.type == "int" and not (float(low).is_integer() and float(high).is_integer()):
        reporter.error(
            domain.pos,
            f"int input '{item.name}' has non-integer bounds {low!r}..{high!r};"
            " write integers or declare it float",
        )
        return None
    if low > high:
        reporter.error(
            domain.pos,
            f"empty range {low!r}..{high!r} for input '{item.name}':"
            " the low end is above the high end",
        )
        return None
    default = item.default
    if default is not None:
        problem = None
        if item.type == "int" and not float(default).is_integer():
            problem = f"int input '{item.name}' has the non-integer default {default!r}"
        elif not low <= default <= high:
            problem = (
                f"default {default!r} of input '{item.name}' is outside its range {low!r}..{high!r}"
            )
        if problem:
            reporter.error(item.default_pos, problem)
            return None
        default = float(default)
    return InputDomain(item.name, item.type, float(low), float(high), default, item.pos.line)


def _inputs_agree(spec: ast.Spec, algorithms: list[AlgorithmInfo], reporter: Reporter) -> None:
    """An input of one name is one feature of the instance, whichever algorithm reads it:
    a solve gives it one value, so every algorithm must declare it alike."""
    first: dict[str, tuple[str, InputDomain]] = {}
    for declared, info in zip(spec.algorithms, algorithms, strict=True):
        for item in info.inputs:
            if item.name not in first:
                first[item.name] = (info.name, item)
                continue
            owner, seen = first[item.name]
            if (seen.type, seen.low, seen.high, seen.default) != (
                item.type,
                item.low,
                item.high,
                item.default,
            ):
                node = next(i for i in declared.inputs if i.name == item.name)
                reporter.error(
                    node.pos,
                    f"input '{item.name}' is declared differently in algorithm '{owner}'"
                    f" (line {seen.line}): a solve gives it one value, so declare it alike",
                    len(item.name),
                )


def _param(param: ast.Param, reporter: Reporter) -> ParamDomain | None:
    domain = param.domain
    is_int = param.type == "int"
    if isinstance(domain, ast.ValueSet) and not domain.values:
        reporter.error(domain.pos, f"the set of values of '{param.name}' is empty", 2)
        return None
    if param.type == "str" or isinstance(domain, ast.LabelSet):
        return _labels(param, reporter)
    if isinstance(domain, ast.Range):
        low, high = domain.low, domain.high
        if is_int and not (float(low).is_integer() and float(high).is_integer()):
            reporter.error(
                domain.pos,
                f"int param '{param.name}' has non-integer bounds {low!r}..{high!r};"
                " write integers or declare it float",
            )
            return None
        if low > high:
            reporter.error(
                domain.pos,
                f"empty domain {low!r}..{high!r} for '{param.name}':"
                " the low end is above the high end",
            )
            return None
        if is_int and high - low + 1 > MAX_SET_VALUES:
            reporter.error(
                domain.pos, f"domain of '{param.name}' has more than {MAX_SET_VALUES} values"
            )
            return None
        values = tuple(float(v) for v in range(int(low), int(high) + 1)) if is_int else None
        return ParamDomain(param.name, param.type, float(low), float(high), values, param.pos.line)
    if is_int and any(not float(v).is_integer() for v in domain.values):
        bad = next(v for v in domain.values if not float(v).is_integer())
        reporter.error(domain.pos, f"int param '{param.name}' has the non-integer value {bad!r}")
        return None
    if len(set(domain.values)) != len(domain.values):
        again = next(v for i, v in enumerate(domain.values) if v in domain.values[:i])
        reporter.error(
            domain.pos, f"the value {again!r} appears twice in the set of '{param.name}'"
        )
        return None
    values = tuple(sorted(float(v) for v in domain.values))
    return ParamDomain(param.name, param.type, values[0], values[-1], values, param.pos.line)


def _labels(param: ast.Param, reporter: Reporter) -> ParamDomain | None:
    """A str param's names, distinct and non-empty; its values are their positions."""
    domain = param.domain
    if param.type != "str":
        reporter.error(
            domain.pos,
            f"{param.type} param '{param.name}' takes numbers; declare it"
            f" `{param.name}: str` to choose among names",
        )
        return None
    if not isinstance(domain, ast.LabelSet):
        reporter.error(
            domain.pos,
            f"str param '{param.name}' takes a set of names in quotes,"
            ' like {"lne", "tflite"}, not numbers',
        )
        return None
    ok = True
    for index, (label, pos) in enumerate(zip(domain.values, domain.positions, strict=True)):
        if label in domain.values[:index]:
            message = f"the value {label!r} appears twice in the set of '{param.name}'"
        elif label.strip() != label or not label:
            message = f"the value {label!r} of '{param.name}' is empty or has spaces at an end"
        else:
            continue
        reporter.error(pos, message, len(label) + 2)
        ok = False
    if not ok:
        return None
    codes = tuple(float(i) for i in range(len(domain.values)))
    return ParamDomain(
        param.name, "str", 0.0, codes[-1], codes, param.pos.line, tuple(domain.values)
    )


ENCODINGS = ("table", "structure")


def _encoding(target: ast.Target, reporter: Reporter) -> tuple[str | None, ast.Surrogate]:
    """The `encoding = ...` argument, taken out of the surrogate's own arguments: table,
    structure (the kind's default MIP encoding) or one of the kind's MIP encodings by name."""
    kind = surrogates.KINDS.get(target.surrogate.kind)
    allowed = ENCODINGS + (kind.structures() if kind is not None else ())
    encoding, kept = None, []
    for arg in target.surrogate.args:
        if arg.name != "encoding":
            kept.append(arg)
        elif arg.value in allowed:
            encoding = arg.value
        else:
            reporter.error(
                arg.pos,
                f"encoding must be {', '.join(allowed[:-1])} or {allowed[-1]}, not {arg.value!r}",
                len(arg.name),
            )
    return encoding, dataclasses.replace(target.surrogate, args=tuple(kept))


def _target(target: ast.Target, reporter: Reporter) -> TargetInfo | None:
    encoding, surrogate = _encoding(target, reporter)
    args = surrogates.validate(surrogate, reporter)
    try:
        unit = parse_unit(target.unit)
    except ValueError as err:
        reporter.error(target.unit_pos, str(err), len(target.unit))
        return None
    if args is None:
        return None
    start = target.surrogate.pos
    line = target.surrogate.pos.line
    text = reporter.source.split("\n")[line - 1][start.column - 1 :].split("#")[0].strip()
    return TargetInfo(
        target.name, target.column, unit, surrogate.kind, args, target.pos.line, text, encoding
    )


def _expression_units(spec: ast.Spec, targets: list[TargetInfo], reporter: Reporter) -> dict:
    """Units of every name usable in an expression: targets, then numeric hardware attributes."""
    units = {t.name: t.unit for t in targets}
    declared: dict[str, list[tuple[ast.Attribute, object]]] = {}
    for hw in spec.hardware:
        for attr in hw.attributes:
            if not isinstance(attr.value, ast.Quantity) or attr.name == carbon.ATTRIBUTE:
                continue  # carbon_intensity: checked and converted by hadac.carbon
            if attr.name in {t.name for t in spec.targets}:
                reporter.error(
                    attr.pos, f"attribute '{attr.name}' has the name of a target", len(attr.name)
                )
                continue
            try:
                unit = (
                    parse_unit(attr.value.unit) if attr.value.unit else parse_unit("dimensionless")
                )
            except ValueError:
                continue  # reported with the hardware
            declared.setdefault(attr.name, []).append((attr, unit))
    for name, uses in declared.items():
        units.setdefault(name, uses[0][1])
        _consistent_units(name, uses, reporter)
    return units


def _consistent_units(name: str, uses: list, reporter: Reporter) -> None:
    """One dimension for an attribute across the hardware: the dimension most hardware use
    is taken as meant, and each other use is reported on its own line (in a tie, each)."""
    groups: dict = {}
    for attr, unit in uses:
        groups.setdefault(unit.dimensionality, []).append((attr, unit))
    if len(groups) < 2:
        return
    largest = max(len(g) for g in groups.values())
    meant = [g for g in groups.values() if len(g) == largest]
    for group in groups.values():
        if len(meant) == 1 and group is meant[0]:
            continue
        others = [g[0] for g in groups.values() if g is not group]
        said = ", ".join(f"{unit:~} at line {attr.pos.line}" for attr, unit in others)
        for attr, unit in group:
            reporter.error(
                attr.value.pos,
                f"attribute '{name}' has unit {unit:~} here but {said} on another hardware",
            )


def _goal(spec: ast.Spec, typer: Typer, reporter: Reporter) -> Goal | None:
    for extra in spec.objectives[1:]:
        reporter.error(
            extra.pos, "a spec has one objective; this is a second one", len(extra.sense)
        )
    if not spec.objectives:
        return None
    objective = spec.objectives[0]
    lowered = typer.lower(objective.expr)
    if lowered is None:
        return None
    text = _statement_text(spec, objective.pos)
    return Goal(objective.sense, lowered[0], lowered[1], text, objective.pos.line)


def _bound(constraint: ast.Constraint, typer: Typer, spec: ast.Spec) -> Bound | None:
    """`left op right` as `quantity op number`: the right side when it is constant, else 0."""
    reporter = typer.reporter
    if constraint.op not in ("<=", ">="):
        reporter.error(
            constraint.op_pos,
            f"'{constraint.op}' is not supported on predicted values; use <= or >=",
            len(constraint.op),
        )
        return None
    left, right = typer.lower(constraint.left), typer.lower(constraint.right)
    if left is None or right is None:
        return None
    joined = typer.join(left, right, constraint.op_pos, f"'{constraint.op}'")
    if joined is None:
        return None
    (lexpr, unit), (rexpr, _) = joined
    written_unit = None
    if names_in(rexpr):
        quantity, bound = Op("-", lexpr, rexpr), 0.0
    else:
        quantity, bound, written_unit = lexpr, float(evaluate(rexpr, {})), right[1]
    text = _statement_text(spec, constraint.pos)
    confidence = constraint.confidence
    if confidence is not None and not 0.0 < confidence < 1.0:
        reporter.error(
            constraint.confidence_pos,
            f"confidence {confidence:g} must be above 0 and below 1, like 0.95",
        )
        return None
    return Bound(
        quantity, constraint.op, bound, unit, text, constraint.pos.line, confidence, written_unit
    )


def _statement_text(spec: ast.Spec, pos: ast.Pos) -> str:
    line = spec.source.split("\n")[pos.line - 1]
    return " ".join(line[pos.column - 1 :].split("#")[0].split())


def _attributes_defined(spec, goal, bounds, reporter, lets=()) -> None:
    """Every hardware attribute used in the objective or a constraint exists on every hardware."""
    targets = {t.name for t in spec.targets}
    uses = [(goal.expr, goal.line)] if goal else []
    uses += [(b.expr, b.line) for b in bounds] + [(let.expr, let.line) for let in lets]
    for expr, line in uses:
        for name in sorted(names_in(expr) - targets - {carbon.ATTRIBUTE}):
            for hw in spec.hardware:
                attr = hw.attribute(name)
                if attr is None or not isinstance(attr.value, ast.Quantity):
                    reporter.error(
                        hw.pos,
                        f"hardware '{hw.name}' has no numeric attribute '{name}',"
                        f" used at line {line}",
                        len(hw.name),
                    )


def _solver(spec: ast.Spec, reporter: Reporter) -> str | None:
    for choice in spec.solvers:
        if choice.name not in solvers.names():
            reporter.error(choice.pos, solvers.unknown(choice.name), len(choice.name))
    for extra in spec.solvers[1:]:
        reporter.error(extra.pos, "a spec names one solver; this is a second one", len(extra.name))
    first = spec.solvers[0].name if spec.solvers else None
    return first if first in solvers.names() else None


def _pairs(spec, algorithms, targets, reporter) -> tuple[list[Pair], list[SharedData]]:
    """The pairs with their data, and each algorithm's hardware-independent data: read
    first, since a target whose column it holds is read from it and from no pair's file."""
    hardware_names = {h.name for h in spec.hardware}
    pairs, shared = [], []
    for algorithm, info in zip(spec.algorithms, algorithms, strict=True):
        common = next((d for d in algorithm.data if d.hardware is None), None)
        held = _shared_data(spec, common, info, targets, reporter) if common else None
        if held is not None:
            shared.append(held)
        elsewhere = {t.column: common for t in targets if held and t.name in held.targets}
        columns = info.features + [t.column for t in targets if t.column not in elsewhere]
        for binding in algorithm.data:
            if binding.hardware is None:
                continue
            if binding.hardware not in hardware_names:
                reporter.error(
                    binding.pos,
                    f"unknown hardware '{binding.hardware}'"
                    f" (declared: {', '.join(sorted(hardware_names)) or 'none'})",
                    len(binding.hardware),
                )
                continue
            path = _data_path(spec, binding, reporter)
            if path is None:
                continue
            table = _read_data(path, binding, info, columns, reporter, elsewhere)
            if table is not None:
                pairs.append(Pair(algorithm.name, binding.hardware, path, table, binding.pos.line))
    return pairs, shared


def _data_path(spec: ast.Spec, binding: ast.DataBinding, reporter: Reporter) -> Path | None:
    try:
        return (spec.path.parent / binding.path).resolve()
    except (OSError, ValueError, RuntimeError) as err:  # a NUL byte, a symlink loop
        reporter.error(
            binding.path_pos,
            f"invalid data file path {binding.path!r}: {err}",
            len(binding.path) + 2,
        )
        return None


def _shared_data(spec, binding, info: AlgorithmInfo, targets, reporter) -> SharedData | None:
    """An algorithm's `data = "file.csv"`: the targets whose columns it has, read from it."""
    path = _data_path(spec, binding, reporter)
    text = path and _read_csv(path, binding, reporter)
    if text is None:
        return None
    held = [t for t in targets if t.column in text.header]
    if not held:
        columns = ", ".join(f'"{c}"' for c in dict.fromkeys(t.column for t in targets))
        reporter.error(
            binding.path_pos,
            f"{Path(binding.path)} has the column of no target ({columns}): hardware-independent"
            " data hold the targets that are the same on every hardware",
            len(binding.path) + 2,
        )
        return None
    columns = info.features + [t.column for t in held]
    table = _table(text, path, binding, info, columns, reporter)
    if table is None:
        return None
    names = tuple(t.name for t in held)
    return SharedData(info.name, path, table, names, binding.pos.line)


def _read_csv(path: Path, binding: ast.DataBinding, reporter: Reporter) -> datafile.Csv | None:
    if not path.is_file():
        reporter.error(binding.path_pos, _not_a_file(binding.path, path), len(binding.path) + 2)
        return None
    return datafile.read_csv(path, reporter)


def _read_data(
    path: Path, binding, info: AlgorithmInfo, columns: list[str], reporter, elsewhere
) -> Table | None:
    """The `columns` of a pair's data file; `elsewhere` maps the columns that the
    algorithm's hardware-independent file holds to it: a pair's file that has one too is an
    error naming both."""
    text = _read_csv(path, binding, reporter)
    if text is None:
        return None
    both = [column for column in elsewhere if column in text.header]
    for column in both:
        common = elsewhere[column]
        reporter.error(
            binding.path_pos,
            f'column "{column}" is in both {Path(binding.path)} and {Path(common.path)}'
            f" (line {common.pos.line}, data for every hardware): a target's column is either"
            " per hardware or shared; drop it from one of them",
            len(binding.path) + 2,
        )
    if both:
        return None
    return _table(text, path, binding, info, columns, reporter)


def _table(
    text: datafile.Csv, path: Path, binding, info: AlgorithmInfo, columns: list[str], reporter
) -> Table | None:
    """The `columns` of one data file, all numeric; reports file, row and column otherwise."""
    shown = Path(binding.path)
    missing = [c for c in dict.fromkeys(columns) if c not in text.header]
    for column in missing:
        reporter.error(
            binding.path_pos,
            f'{shown} has no column "{column}" (it has: {", ".join(text.header)})',
            len(binding.path) + 2,
        )
    if missing:
        return None
    labels = {p.name: p.labels for p in info.params if p.labels is not None}
    table = text.numbers(columns, reporter, labels)
    if table is None:
        return None
    lines = table.lines
    checked = [*info.params, *(i.as_range() for i in info.inputs)]
    for param in checked:
        column = table[param.name]
        outside = ~_inside(column, param)
        if outside.any():
            first = int(np.flatnonzero(outside)[0])
            reporter.data_warning(
                path,
                int(lines[first]),
                param.name,
                f"value {_show(column[first])} is outside the declared"
                f" {'domain' if param.finite else 'range'} of '{param.name}'"
                f" ({_rows(int(outside.sum()))} outside in this file)",
            )
    if len(lines) < fit.MIN_ROWS:
        reporter.error(
            binding.path_pos,
            f"{shown} has {_rows(len(lines))} to learn from; a surrogate needs at least"
            f" {fit.MIN_ROWS} (it is fitted on 80% of them and checked on the other 20%)",
            len(binding.path) + 2,
        )
        return None
    for param in info.params:  # an input's range is where instances may lie, not a grid
        if not param.categorical:
            _warn_if_partly_covered(table[param.name], param, binding, reporter)
    _note_absent_labels(info, table, binding, reporter)
    return table


def _note_absent_labels(info: AlgorithmInfo, table: Table, binding, reporter) -> None:
    """A warning for the names of a str param that no row of a pair's data has: the
    surrogate knows nothing of them, so they are never chosen on that pair."""
    absent = info.absent(table)
    for j, param in enumerate(info.params):
        shown = ", ".join(f'"{param.labels[int(code)]}"' for i, code in absent if i == j)
        if not shown:
            continue
        if binding.hardware is None:  # hardware-independent data
            what = f"its surrogates of {info.name} on every hardware extrapolate there"
        else:
            what = f"never chosen for {info.name} on {binding.hardware}"
        reporter.warning(
            binding.path_pos,
            f"{Path(binding.path)} has no row with {param.name} = {shown}: {what}",
            len(binding.path) + 2,
        )


def _warn_if_partly_covered(column: np.ndarray, param, binding, reporter) -> None:
    """A warning when the data stop short of an end of the declared domain: beyond the
    data a tree predicts the value at the edge, and the optimum may be an artefact."""
    low, high = float(column.min()), float(column.max())
    if param.values is not None:
        beyond = [v for v in param.values if v < low or v > high]
        domain = f"{_show(param.values[0])}..{_show(param.values[-1])}"
    else:
        beyond = [v for v in (param.low, param.high) if v < low or v > high]
        domain = f"{_show(param.low)}..{_show(param.high)}"
    if beyond:
        reporter.warning(
            binding.path_pos,
            f"{Path(binding.path)} covers {param.name} = {_show(low)}..{_show(high)} only, of the"
            f" declared {domain}: beyond it the surrogates extrapolate",
            len(binding.path) + 2,
        )


def _not_a_file(written: str, path: Path) -> str:
    """Why a data path cannot be read, in the words of what is there."""
    if written == "":
        return "empty data file path: give the CSV file's path, relative to the spec"
    if path.is_dir():
        return f"data file path is a directory, not a CSV file: {path}"
    if path.exists():
        return f"data file path is not a regular file (a device, pipe or socket): {path}"
    return f"data file not found: {path}"


def _show(value: float) -> str:
    """A data value as a person writes it: 2, 2.5, 1e-05 (not np.float64(2.0))."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _inside(column: np.ndarray, param: ParamDomain) -> np.ndarray:
    if param.values is not None:
        return np.isin(column, np.array(param.values))
    return (column >= param.low) & (column <= param.high)


def load(path: Path | str, location: str | None = None) -> tuple[Problem, Reporter]:
    """Parse and check a spec file; `location` as for `check`."""
    return check(parse_file(path), location=location)
