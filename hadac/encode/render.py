"""Render the MiniZinc model and its data from the tables and the templates.

Everything that reaches the model text is sorted or in spec order, and every float is a
Python float written by `json` (its `repr`), so the same spec and data give the same bytes.
"""

from __future__ import annotations

from functools import cache

import jinja2
import numpy as np

from hadac import __version__, conformal
from hadac.encode import names
from hadac.encode.tables import Quantity, Tables
from hadac.problem import Problem
from hadac.resources import templates


def _zip_index(weights: list[float], array: str) -> list[str]:
    """`[w1, w2]`, `"x"` -> `["w1 * x[1]", "w2 * x[2]"]`: a dot product, term by term."""
    return [f"{w!r} * {array}[{i}]" for i, w in enumerate(weights, start=1)]


@cache
def _environment() -> jinja2.Environment:
    """The models' templates; every value they write goes through `names.text`."""
    environment = templates({"zip_index": _zip_index})
    environment.finalize = names.text
    return environment


def _domain_text(values: tuple[float, ...], low: float, high: float) -> str:
    ints = [int(v) for v in values]
    if ints == list(range(int(low), int(high) + 1)):
        return f"{int(low)}..{int(high)}"
    return "{" + ", ".join(str(v) for v in ints) + "}"


def _ints(array: np.ndarray) -> list[int]:
    return [int(v) for v in array]


def _floats(array: np.ndarray) -> list[float]:
    return [float(v) for v in array]


def _render_model(template: str, problem: Problem, data_file: str, **context) -> str:
    """A model template, with the header every model has: the spec, hadac's version, the data."""
    return (
        _environment()
        .get_template(template)
        .render(
            spec={"name": problem.name, "path": problem.spec.path.name},
            version=__version__,
            data_file=data_file,
            **context,
        )
    )


def render_mip(problem: Problem, fitted: dict, data_file: str, models: dict):
    """The MIP model's text, its data, and each surrogate's encoding and size."""
    from hadac.encode import mip

    ctx, data, entries = mip.context(problem, fitted, models)
    model = _render_model("mip/model.mzn.j2", problem, data_file, **ctx)
    return model, data, entries, ctx


def render_surrogate(ctx: dict) -> str:
    """One surrogate's MIP encoding on its own, as the MIP model includes it."""
    return _environment().get_template("mip/" + ctx["template"]).render(s=ctx)


def render(
    problem: Problem, tables: Tables, data_file: str, models: dict, margins: dict | None = None
) -> tuple[str, dict]:
    """The enumerated model's text and its data.

    `models` maps (algorithm, hardware, target) to the file name of its fitted estimator;
    `margins` the per-pair margins of confidence constraints, by index (`hadac.conformal`).
    """
    data: dict = {
        "N_CONFIGS": tables.size,
        "CONFIG_HARDWARE": [names.hardware(problem.hardware[i].name) for i in tables.hardware],
        "CONFIG_ALGORITHM": [names.algorithm(problem.algorithms[i].name) for i in tables.algorithm],
    }
    params = []
    for algorithm in problem.algorithms:
        for p in algorithm.params:
            array = names.param_array(algorithm.name, p.name)
            is_int = p.type == "int" and all(float(v).is_integer() for v in p.values)
            column = tables.params[(algorithm.name, p.name)]
            data[array] = _ints(column) if is_int else _floats(column)
            domain = (
                _domain_text(p.values, p.low, p.high)
                if is_int
                else "{" + ", ".join(repr(v) for v in p.values) + "}"
            )
            params.append(
                {
                    "algorithm": algorithm.name,
                    "name": p.name,
                    "type": p.type,
                    "domain": domain,
                    "line": p.line,
                    "array": array,
                    "var": names.param_var(algorithm.name, p.name),
                    "mzn_type": domain if is_int else "float",
                }
            )

    pair_rows = [
        {
            "algorithm": pair.algorithm,
            "hardware": pair.hardware,
            "line": pair.line,
            "first": first,
            "last": last,
        }
        for pair, (first, last) in zip(problem.pairs, tables.pair_ranges, strict=True)
    ]

    def quantity_context(q: Quantity, line: int | None, surrogate_kind: str | None) -> dict:
        data[names.value_array(q.name)] = _floats(q.values)
        data[names.rank_array(q.name)] = _ints(q.ranks)
        surrogates = []
        if surrogate_kind is not None:
            surrogates = [
                {
                    **row,
                    "kind": surrogate_kind,
                    "rows": row["last"] - row["first"] + 1,
                    "model": models[(row["algorithm"], row["hardware"], q.name)],
                }
                for row in pair_rows
            ]
        return {
            "description": q.description,
            "line": line,
            "surrogates": surrogates,
            "unit": q.unit,
            "value_array": names.value_array(q.name),
            "rank_array": names.rank_array(q.name),
            "var": names.rank_var(q.name),
            "distinct": len(q.distinct),
        }

    quantities = [quantity_context(tables.targets[t.name], t.line, t.kind) for t in problem.targets]
    derived = {id(q) for q in tables.targets.values()}
    extra = [tables.goal] if tables.goal is not None else []
    extra += [q for _, q in tables.bounds]
    for q in extra:
        if id(q) not in derived:
            derived.add(id(q))
            quantities.append(quantity_context(q, None, None))

    constraints = []
    for index, (bound, q) in enumerate(tables.bounds):
        rank = q.threshold(bound.op, bound.bound)
        holds = int(np.count_nonzero(bound.holds(q.values)))
        unit = f" {q.unit}" if q.unit else ""
        constraints.append(
            {
                "text": bound.text,
                "line": bound.line,
                "var": names.rank_var(q.name),
                "op": bound.op,
                "rank": rank,
                "comment": f"{q.name} {bound.op} {bound.bound!r}{unit}: {holds} of"
                f" {tables.size} configurations hold",
                "limits": None,
            }
        )
        if margins and index in margins:
            fields, arrays = conformal.rank_fields(index, bound, q, margins[index], tables)
            constraints[-1].update(fields)
            data.update(arrays)
    objective = None
    if tables.goal is not None:
        objective = {
            "text": problem.goal.text,
            "line": problem.goal.line,
            "sense": problem.goal.sense,
            "var": names.rank_var(tables.goal.name),
        }
    model = _render_model(
        "enumerated/model.mzn.j2",
        problem,
        data_file,
        size=tables.size,
        hardware=[names.hardware(h.name) for h in problem.hardware],
        hardware_lines=[f"line {h.line}" for h in problem.hardware],
        algorithms=[names.algorithm(a.name) for a in problem.algorithms],
        algorithm_lines=[f"line {a.line}" for a in problem.algorithms],
        pairs=pair_rows,
        params=params,
        quantities=quantities,
        constraints=constraints,
        objective=objective,
    )
    return model, data


def _dzn(value: object) -> str:
    """A value in MiniZinc data syntax; strings are enum identifiers, floats their `repr`,
    and a list of equal-length lists a 2-d array."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        flat = [v for row in value for v in row]
        return f"array2d(1..{len(value)}, 1..{len(value[0])}, {_dzn(flat)})"
    if isinstance(value, list):
        return "[" + ", ".join(_dzn(v) for v in value) + "]"
    return value if isinstance(value, str) else repr(value)


def dump_data(data: dict) -> str:
    """The data file's text (`.dzn`): one assignment per line, in insertion order."""
    return "".join(f"{key} = {_dzn(value)};\n" for key, value in data.items())
