"""Render the MiniZinc model and its fixed data from the tables and the templates.

Everything that reaches the model text is sorted or in spec order, and every float is
written by `hadac.numbers`, so the same spec and data give the same bytes. Bounds and the
objective are parameters of the model that each solve's query sets (`hadac.instance`).
"""

from __future__ import annotations

from functools import cache

import jinja2
import numpy as np

from hadac import __version__
from hadac.encode import names
from hadac.encode.tables import Tables
from hadac.jsondata import Enum
from hadac.numbers import plain
from hadac.problem import Problem
from hadac.resources import templates


def _zip_index(weights: list[float], array: str) -> list[str]:
    """`[w1, w2]`, `"x"` -> `["w1 * x[1]", "w2 * x[2]"]`: a dot product, term by term."""
    return [f"{w!r} * {array}[{i}]" for i, w in enumerate(weights, start=1)]


@cache
def _environment() -> jinja2.Environment:
    """The models' templates; every value they write goes through `names.text`."""
    environment = templates({"zip_index": _zip_index, "weighted": _weighted})
    environment.finalize = names.text
    return environment


def _weighted(coefficients: list[int], name: str, negative: list[bool], side: str) -> str:
    """`c1 * name_low[1] + c2 * name_high[2] + ...`: a fixed-point network's sum of integer
    weights times the end of each (nonnegative) input that keeps the sum a `side` bound."""
    other = {"low": "high", "high": "low"}[side]
    terms = [
        f"{c} * {name}_{other if flip else side}[{j}]"
        for j, (c, flip) in enumerate(zip(coefficients, negative, strict=True), start=1)
        if c != 0
    ]
    return " + ".join(terms) or "0"


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


def render_mip(problem: Problem, fitted: dict, data_file: str, models: dict, wanted: list):
    """The MIP model's text, its data, and each surrogate's encoding and size."""
    from hadac.encode import mip

    ctx, data, entries = mip.context(problem, fitted, models, wanted)
    model = _render_model("mip/model.mzn.j2", problem, data_file, **ctx)
    return model, data, entries, ctx


def render_cp(problem: Problem, data_file: str, **context) -> tuple[str, str, str]:
    """The CP model's text and its two solve items (`hadac.encode.cp`)."""
    environment = _environment()
    return (
        _render_model("cp/model.mzn.j2", problem, data_file, **context),
        environment.get_template("cp/best.mzn.j2").render(),
        environment.get_template("cp/candidates.mzn.j2").render(**context),
    )


def render_surrogate(ctx: dict) -> str:
    """One surrogate's MIP encoding on its own, as the MIP model includes it."""
    return _environment().get_template("mip/" + ctx["template"]).render(s=ctx)


def render_splits(ctx: dict) -> str:
    """One algorithm's shared split variables on their own, as the MIP model includes them."""
    return _environment().get_template("mip/splits.mzn.j2").render(a=ctx)


def render(
    problem: Problem, tables: Tables, data_file: str, models: dict
) -> tuple[str, dict[str, object]]:
    """The enumerated model's text and its fixed data.

    `models` maps (algorithm, hardware, target) to the file name of its fitted estimator.
    """
    data: dict[str, object] = {
        "N_CONFIGS": tables.size,
        "CONFIG_HARDWARE": [
            Enum(names.hardware(problem.hardware[i].name)) for i in tables.hardware
        ],
        "CONFIG_ALGORITHM": [
            Enum(names.algorithm(problem.algorithms[i].name)) for i in tables.algorithm
        ],
        "CONFIG_PAIR": _ints(tables.pair),
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
            mzn_type, members = domain if is_int else "float", None
            if p.labels is not None:  # an enum of its names
                members = [
                    {"name": names.label(algorithm.name, p.name, p.labels, i), "label": label}
                    for i, label in enumerate(p.labels)
                ]
                data[array] = [Enum(members[int(code)]["name"]) for code in column]
                domain = "{" + ", ".join(f'"{label}"' for label in p.labels) + "}"
                mzn_type = names.labels(algorithm.name, p.name)
            params.append(
                {
                    "algorithm": algorithm.name,
                    "name": p.name,
                    "type": p.type,
                    "domain": domain,
                    "line": p.line,
                    "array": array,
                    "var": names.param_var(algorithm.name, p.name),
                    "mzn_type": mzn_type,
                    "members": members,
                }
            )

    pair_rows = [
        {
            "index": index,
            "algorithm": pair.algorithm,
            "hardware": pair.hardware,
            "line": pair.line,
            "first": first,
            "last": last,
        }
        for index, (pair, (first, last)) in enumerate(
            zip(problem.pairs, tables.pair_ranges, strict=True), start=1
        )
    ]
    kinds = {t.name: t.kind for t in problem.targets}
    per_solve = bool(problem.inputs)  # the ranks depend on the inputs: each solve's data
    quantities = []
    for q in tables.quantities:
        if not per_solve:
            data[names.rank_array(q.name)] = _ints(q.ranks)
        surrogates = []
        if q.definition.kind == "target":
            surrogates = [
                {
                    **row,
                    "kind": kinds[q.name],
                    "rows": row["last"] - row["first"] + 1,
                    "model": models[(row["algorithm"], row["hardware"], q.name)],
                }
                for row in pair_rows
            ]
        quantities.append(
            {
                "description": q.definition.text,
                "kind": q.definition.kind,
                "line": q.definition.line,
                "surrogates": surrogates,
                "unit": q.definition.unit,
                "rank_array": names.rank_array(q.name),
                "var": names.rank_var(q.name),
                "distinct": names.distinct_count(q.name) if per_solve else len(q.distinct),
                "beyond": (  # the rank past the last: a lower bound that nothing meets
                    f"{names.distinct_count(q.name)} + 1" if per_solve else len(q.distinct) + 1
                ),
                "per_solve": per_solve,
                **bound_names(q.name),
            }
        )
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
        inputs=input_rows(problem),
        quantities=quantities,
    )
    return model, data


def input_rows(problem: Problem) -> list[dict]:
    """What a model says of each instance input in its comments (and, MIP, declares)."""
    return [
        {
            "name": i.name,
            "text": f"{i.type} in {plain(i.low)}..{plain(i.high)}",
            "line": i.line,
            "var": names.input_var(i.name),
            "algorithms": ", ".join(problem.readers(i.name)),
        }
        for i in problem.inputs
    ]


def bound_names(quantity: str) -> dict[str, str]:
    """The query parameters of a quantity's bounds: switches and per-pair limits."""
    return {
        "use_upper": names.use_upper(quantity),
        "upper": names.upper(quantity),
        "use_lower": names.use_lower(quantity),
        "lower": names.lower(quantity),
        "upper_margin": names.upper_margin(quantity),
        "lower_margin": names.lower_margin(quantity),
    }
