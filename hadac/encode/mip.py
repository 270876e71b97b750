"""The MIP model (COIN-BC, HiGHS): each surrogate encoded by its own structure.

Used when a param is a continuous range, when the configurations are too many to enumerate,
or when the spec asks for a structural encoding. Each (algorithm, hardware) pair has a 0/1
choice; each algorithm has its param variables and, when trees read them, its shared split
variables; each surrogate computes y from its algorithm's params (leaf selection, linear
equation, ReLU network, or a lookup table over a point index) and g = run * y is linearised
with the surrogate's own bounds, or computes g itself from leaf weights that sum to run
(shared splits), so a target is the sum of its g over the pairs. Objectives and constraints
are affine per pair (hardware attributes are constants within a pair).
"""

from __future__ import annotations

import math

import numpy as np

from hadac import affine, onehot, surrogates
from hadac.encode import names
from hadac.encode.quantities import Definition
from hadac.encode.render import bound_names, input_rows
from hadac.errors import HadacError
from hadac.numbers import exact
from hadac.problem import AlgorithmInfo, Problem
from hadac.surrogates.splits import STRUCTURE as SPLITS
from hadac.surrogates.splits import Cut, Splits

TABLE_LIMIT = 10_000  # points of an algorithm's domain up to which a surrogate is a table


def encoding_for(problem: Problem, target, algorithm: AlgorithmInfo) -> str:
    """The target's requested encoding, else a table for a small domain, else its kind's
    default structure.

    A surrogate of an algorithm with instance inputs is never a table here: its table would
    depend on each solve's inputs, while the MIP model's data are fixed at compile time. One
    of an algorithm with neither params nor inputs has one value, a table of one row.
    """
    if not algorithm.params and not algorithm.inputs:
        return "table"
    finite = all(p.finite for p in algorithm.params)
    points = math.prod(len(p.values) for p in algorithm.params) if finite else math.inf
    wanted = target.encoding
    if wanted == "table" and algorithm.inputs:
        raise HadacError(
            f"{problem.spec.path}:{target.line}: '{target.name}' asks for a table but"
            f" '{algorithm.name}' has instance inputs, whose values change the table at each"
            " solve; drop `encoding = table` (the MIP model encodes its structure), or give"
            " every param a finite domain so that hadac enumerates"
        )
    if wanted == "table" or (wanted is None and points <= TABLE_LIMIT and not algorithm.inputs):
        if not finite:
            raise HadacError(
                f"{problem.spec.path}:{target.line}: '{target.name}' asks for a table but"
                f" '{algorithm.name}' has a continuous param"
            )
        return "table"
    if wanted in (None, "structure"):
        return surrogates.kind(target.kind).structure
    return wanted


def encodings_of(problem: Problem) -> dict[tuple[str, str], str]:
    """The encoding of each (algorithm, target)'s surrogates."""
    return {
        (algorithm.name, target.name): encoding_for(problem, target, algorithm)
        for algorithm in problem.algorithms
        for target in problem.targets
    }


def domain_text(p) -> str:
    """A param's domain as MiniZinc writes it: `4..52`, `{1, 2, 4}`, `{0.5, 1.0}`, names."""
    if p.labels is not None:
        return "{" + ", ".join(f'"{label}"' for label in p.labels) + "}"
    if p.values is None:
        return f"{p.low!r}..{p.high!r}"
    if p.type == "int":
        ints = [int(v) for v in p.values]
        if ints == list(range(ints[0], ints[-1] + 1)):
            return f"{ints[0]}..{ints[-1]}"
        return "{" + ", ".join(map(str, ints)) + "}"
    return "{" + ", ".join(repr(float(v)) for v in p.values) + "}"


def _widen(low: float, high: float) -> tuple[float, float]:
    """Bounds a hair wider than exact, so float rounding in a sum never cuts a solution off."""
    pad = 1e-9 * max(1.0, abs(low), abs(high))
    return float(low) - pad, float(high) + pad


def surrogate(
    estimator,
    algorithm: AlgorithmInfo,
    encoding: str,
    sid: str,
    x: str,
    run: str,
    shared: Splits,
    splits: str,
) -> tuple[dict, dict]:
    """One surrogate's template context and data; `x` is the MiniZinc array of its inputs,
    `run` its pair's 0/1, `splits` the array of its algorithm's split variables `shared`.

    Its template defines `y_<sid>` from `x` (or, for a table, from `point_<algorithm>`), or
    with `pair_linked` `g_<sid>` (zero when `run` is) from the split variables.
    """
    domains = onehot.expand(algorithm.feature_domains)
    if encoding == "table":
        grid = onehot.raw(algorithm.points(), algorithm.labels)
        values = [float(v) for v in np.asarray(estimator.predict(grid), dtype=float)]
        enc = {
            "template": "table.mzn.j2",
            "data": {"TABLE": values},
            "bounds": (min(values), max(values)),
            "size": {"table_rows": len(values)},
        }
    else:
        model = onehot.unwrap(estimator)[0]
        enc = surrogates.encode_mip(encoding, model, domains, shared)
    data = {f"{sid}_{key}": value for key, value in enc.pop("data").items()}
    low, high = _widen(*enc.pop("bounds"))
    return {
        "pair_linked": False,
        **enc,
        "id": sid,
        "encoding": encoding,
        "x": x,
        "run": run,
        "splits": splits,
        "point": names.point_var(algorithm.name),
        "y": f"y_{sid}",
        "g": f"g_{sid}",
        "low": exact(low),
        "high": exact(high),
        "g_low": exact(min(low, 0.0)),
        "g_high": exact(max(high, 0.0)),
        "inputs": len(domains),
        "x_low": "[" + ", ".join(exact(p.low) for p in domains) + "]",
        "x_high": "[" + ", ".join(exact(p.high) for p in domains) + "]",
    }, data


def split_context(algorithm: AlgorithmInfo, shared: Splits, x: str) -> tuple[dict, dict]:
    """The template context and data of an algorithm's shared split variables; `x` is the
    MiniZinc array of its params."""
    name = algorithm.name
    domains = onehot.expand(algorithm.feature_domains)
    ctx = {
        "algorithm": name,
        "cuts": len(shared.cuts),
        "inputs": len(domains),
        "var": names.split_var(name),
        "param": names.split_param(name),
        "left": names.split_left(name),
        "right": names.split_right(name),
        "x": x,
        "x_low": "[" + ", ".join(exact(p.low) for p in domains) + "]",
        "x_high": "[" + ", ".join(exact(p.high) for p in domains) + "]",
    }
    data = {
        ctx["param"]: [c.param + 1 for c in shared.cuts],
        ctx["left"]: [c.left for c in shared.cuts],
        ctx["right"]: [c.right for c in shared.cuts],
    }
    return ctx, data


def _shared_splits(
    problem: Problem, fitted: dict, encodings: dict, inputs: dict
) -> tuple[dict[str, Splits], list[dict], dict]:
    """Each algorithm's split variables, made from the cuts of all its surrogates, and the
    context and data of those that some surrogate reads."""
    shared, splits, data = {}, [], {}
    for algorithm in problem.algorithms:
        found: set[Cut] = set()
        reads_splits = False
        for pair in problem.pairs:
            if pair.algorithm != algorithm.name:
                continue
            for target in problem.targets:
                encoding = encodings[(algorithm.name, target.name)]
                estimator = fitted[(pair.algorithm, pair.hardware, target.name)].estimator
                if encoding != "table":
                    model = onehot.unwrap(estimator)[0]
                    domains = onehot.expand(algorithm.feature_domains)
                    found |= surrogates.cuts(encoding, model, domains)
                    reads_splits |= encoding == SPLITS
        shared[algorithm.name] = Splits.of(found)
        if reads_splits:
            ctx, more = split_context(algorithm, shared[algorithm.name], inputs[algorithm.name])
            splits.append(ctx)
            data.update(more)
    return shared, splits, data


def context(
    problem: Problem, fitted: dict, models: dict, wanted: list[Definition]
) -> tuple[dict, dict, list[dict]]:
    """Template context, data, and per-surrogate manifest entries (encoding and size)."""
    data: dict = {"N_PAIRS": len(problem.pairs)}  # never empty, as MiniZinc needs
    pairs = [
        {"index": i, "algorithm": p.algorithm, "hardware": p.hardware, "line": p.line}
        for i, p in enumerate(problem.pairs, start=1)
    ]
    params, inputs, points = [], {}, []
    for algorithm in problem.algorithms:
        inputs_of = []
        for p in algorithm.params:
            var = names.param_var(algorithm.name, p.name)
            # a str param: one 0/1 per name, exactly one of them 1, as the pipeline encodes it
            flags = names.onehot(algorithm.name, p.name) if p.labels is not None else None
            if flags is not None:
                inputs_of += [f"int2float({flags}[{i}])" for i in range(1, len(p.labels) + 1)]
            else:
                inputs_of.append(var if p.type == "float" else f"int2float({var})")
            params.append(
                {
                    "algorithm": algorithm.name,
                    "name": p.name,
                    "var": var,
                    "domain": domain_text(p),
                    "type": p.type,
                    "line": p.line,
                    "onehot": flags,
                    "count": len(p.labels or ()),
                }
            )
        inputs_of += [names.input_var(i.name) for i in algorithm.inputs]
        params_array = "[" + ", ".join(inputs_of) + "]"
        inputs[algorithm.name] = params_array

    encodings = encodings_of(problem)
    shared, splits, split_data = _shared_splits(problem, fitted, encodings, inputs)
    data.update(split_data)

    sections, entries, needs_points = [], [], set()
    targets = {
        t.name: {
            "name": t.name,
            "var": names.target_var(t.name),
            "unit": t.unit_text,
            "line": t.line,
            "text": t.text,
            "terms": [],
            "low": math.inf,
            "high": -math.inf,
        }
        for t in problem.targets
    }
    for index, pair in enumerate(problem.pairs, start=1):
        algorithm = problem.algorithm(pair.algorithm)
        for target in problem.targets:
            estimator = fitted[(pair.algorithm, pair.hardware, target.name)].estimator
            encoding = encodings[(algorithm.name, target.name)]
            sid = names.section(len(sections) + 1)
            if encoding == "table":
                needs_points.add(algorithm.name)
            enc, enc_data = surrogate(
                estimator,
                algorithm,
                encoding,
                sid,
                inputs[pair.algorithm],
                f"run[{index}]",
                shared[algorithm.name],
                names.split_var(algorithm.name),
            )
            data.update(enc_data)
            low, high = float(enc["low"]), float(enc["high"])
            sections.append(
                {
                    **enc,
                    "target": target.name,
                    "unit": target.unit_text,
                    "text": target.text,
                    "line": target.line,
                    "algorithm": pair.algorithm,
                    "hardware": pair.hardware,
                    "pair": index,
                    "model": models[(pair.algorithm, pair.hardware, target.name)],
                }
            )
            entries.append({"encoding": encoding, "size": enc["size"], "bounds": (low, high)})
            t = targets[target.name]
            t["terms"].append(enc["g"])
            t["low"], t["high"] = min(t["low"], low), max(t["high"], high)

    for algorithm in problem.algorithms:
        if algorithm.name in needs_points:
            grid = algorithm.points()
            columns = []
            for j, p in enumerate(algorithm.params):
                array = names.point_array(algorithm.name, p.name)
                column = grid[:, j]
                kind = "float" if p.type == "float" else "int"  # a str param's codes are ints
                data[array] = (
                    [int(v) for v in column] if kind == "int" else [float(v) for v in column]
                )
                columns.append(
                    {"array": array, "var": names.param_var(algorithm.name, p.name), "type": kind}
                )
            points.append(
                {
                    "algorithm": algorithm.name,
                    "var": names.point_var(algorithm.name),
                    "size": len(grid),
                    "columns": columns,
                }
            )

    target_list = list(targets.values())
    for t in target_list:
        t["low"], t["high"] = exact(t["low"]), exact(t["high"])

    bounds_of = {
        t.name: (float(targets[t.name]["low"]), float(targets[t.name]["high"]))
        for t in problem.targets
    }
    quantities = []
    for definition in wanted:
        q = _quantity(problem, definition, bounds_of)
        if q is not None:
            quantities.append(q | bound_names(definition.name))
    ctx = {
        "pairs": pairs,
        "params": params,
        "absent": _absent(problem),
        "inputs": input_rows(problem),
        "points": points,
        "splits": splits,
        "surrogates": sections,
        "targets": target_list,
        "quantities": quantities,
    }
    return ctx, data, entries


def _absent(problem: Problem) -> list[dict]:
    """Each str param's name that a pair's data lack, whose 0/1 that pair's choice sets to 0."""
    out = []
    for index, pair in enumerate(problem.pairs, start=1):
        algorithm = problem.algorithm(pair.algorithm)
        for j, code in algorithm.absent(pair.table):
            param = algorithm.params[j]
            out.append(
                {
                    "onehot": names.onehot(algorithm.name, param.name),
                    "index": int(code) + 1,
                    "pair": index,
                    "text": f"{pair.algorithm} on {pair.hardware}: no row with"
                    f' {param.name} = "{param.labels[int(code)]}"',
                }
            )
    return out


def _quantity(problem: Problem, definition: Definition, bounds_of: dict) -> dict | None:
    """A MiniZinc expression for a quantity, per pair when hardware attributes enter it;
    None for a let that is not affine in the targets (the model cannot bound it)."""
    targets = set(bounds_of)
    try:
        forms = [
            affine.form(definition.expr, problem.hardware_info(p.hardware).numbers, targets)
            for p in problem.pairs
        ]
    except affine.NotLinear as err:
        if not definition.required:
            return None
        text, line = definition.blame
        raise HadacError(
            f"{problem.spec.path}:{line}: '{text}' contains {err}, which"
            " a MIP solver cannot take; give every param a finite domain so hadac can"
            " enumerate, or use table encodings"
        ) from None
    lows, highs = [], []
    for f in forms:
        lo = hi = f.const
        for t, c in f.coefs.items():
            a, b = c * bounds_of[t][0], c * bounds_of[t][1]
            lo, hi = lo + min(a, b), hi + max(a, b)
        lows.append(lo)
        highs.append(hi)
    entry = {
        "name": definition.name,
        "kind": definition.kind,
        "text": definition.text,
        "line": definition.line,
        "unit": definition.unit,
        "low_value": min(lows),
        "high_value": max(highs),
    }
    if definition.kind == "target":
        return entry | {"var": names.target_var(definition.name), "is_target": True}
    same = all(f == forms[0] for f in forms)
    if same:
        f = forms[0]
        terms = [exact(f.const)] if f.const else []
        terms += [f"{exact(c)} * {names.target_var(t)}" for t, c in f.coefs.items()]
    else:
        terms = []
        for index, f in enumerate(forms, start=1):
            if f.const:
                terms.append(f"{exact(f.const)} * run[{index}]")
            for t, c in f.coefs.items():
                sid = _term(problem, index, t)
                terms.append(f"{exact(c)} * g_{sid}")
    low, high = _widen(min(lows), max(highs))
    return entry | {
        "var": names.quantity_var(definition.name),
        "is_target": False,
        "expr": " + ".join(terms) if terms else "0.0",
        "low": exact(low),
        "high": exact(high),
    }


def _term(problem: Problem, pair_index: int, target: str) -> str:
    """The surrogate id of `target` on the pair_index-th pair (ids follow pair, then target)."""
    per_pair = len(problem.targets)
    position = next(i for i, t in enumerate(problem.targets) if t.name == target)
    return f"s{(pair_index - 1) * per_pair + position + 1}"
