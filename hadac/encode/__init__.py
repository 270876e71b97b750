"""Encoders: turn fitted surrogates and the user's goal into a MiniZinc model and its data.

Two model shapes. When every param has a finite domain and the configurations (an
algorithm on a hardware with one value of each param) are few enough, the *enumerated*
model tabulates every surrogate over them and compares integer ranks: exact, and the same
for every solver (`tables`, `render`). Otherwise the *MIP* model encodes each surrogate by
its own structure over param variables (`mip`, with `trees`, `linear`, `mlp`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hadac import conformal
from hadac.encode import names
from hadac.encode.render import render, render_mip
from hadac.encode.tables import Tables, build_tables
from hadac.errors import HadacError
from hadac.problem import Problem
from hadac.units import pretty, to_json

ENUMERATION_LIMIT = 100_000


@dataclass
class Encoded:
    """A rendered model and what the manifest needs to say about it."""

    shape: str  # "enumerated" or "mip"
    model: str
    data: dict
    surrogates: list[dict]  # encoding and size, one per (pair, target), pair-major
    constraints: list[dict]
    objective: dict | None
    configurations: int | None
    tables: Tables | None = None


def shape_for(problem: Problem) -> str:
    """Enumerate when every domain is finite, the configurations few, and no target objects."""
    if any(t.encoding == "structure" for t in problem.targets):
        return "mip"
    if not all(p.finite for a in problem.algorithms for p in a.params):
        return "mip"
    sizes = {a.name: math.prod(len(p.values) for p in a.params) for a in problem.algorithms}
    return (
        "enumerated"
        if sum(sizes[p.algorithm] for p in problem.pairs) <= ENUMERATION_LIMIT
        else "mip"
    )


def encode(problem: Problem, fitted: dict, models: dict, data_file: str) -> Encoded:
    if shape_for(problem) == "enumerated":
        return _enumerated(problem, fitted, models, data_file)
    fixed = next((a for a in problem.algorithms if not a.params), None)
    if fixed is not None:
        # Measured: COIN-BC and HiGHS both returned a worse pair as OPTIMAL when maximizing
        # over such a model, so hadac does not offer one rather than risk a wrong answer.
        raise HadacError(
            f"{problem.spec.path}:{fixed.line}: algorithm '{fixed.name}' has no params, which"
            " the enumerated model handles but the MIP model does not yet; give every param"
            " a finite domain and drop `encoding = structure`, so that hadac enumerates"
        )
    return _mip(problem, fitted, models, data_file)


def _goal_entry(problem: Problem, quantity: str, var: str) -> dict | None:
    goal = problem.goal
    if goal is None:
        return None
    return {
        "sense": goal.sense,
        "text": goal.text,
        "line": goal.line,
        "quantity": quantity,
        "var": var,
        "unit": pretty(goal.unit),
        "expr": to_json(goal.expr),
    }


def _bound_entry(bound, quantity: str, var: str, mzn: str) -> dict:
    return {
        "text": bound.text,
        "line": bound.line,
        "quantity": quantity,
        "var": var,
        "op": bound.op,
        "bound": bound.bound,
        "unit": pretty(bound.unit),
        "expr": to_json(bound.expr),
        "mzn": mzn,
    }


def _confidence(problem, index: int, bound, margins: dict) -> dict:
    """The manifest fields of a confidence constraint (none for a plain one)."""
    if index not in margins:
        return {}
    return conformal.manifest_fields(bound, margins[index], problem)


def _enumerated(problem, fitted, models, data_file) -> Encoded:
    tables = build_tables(problem, fitted)
    margins = conformal.margins(problem, fitted)
    model, data = render(problem, tables, data_file, models, margins)
    surrogates = [
        {
            "encoding": "table",
            "size": {"table_rows": last - first + 1, "configurations": [first, last]},
        }
        for first, last in tables.pair_ranges
        for _ in problem.targets
    ]
    constraints = [
        _bound_entry(
            b,
            q.name,
            names.rank_var(q.name),
            f"constraint {names.rank_var(q.name)} {b.op} {q.threshold(b.op, b.bound)};"
            if i not in margins
            else f"constraint {names.rank_var(q.name)} {b.op} {conformal.limit_array(i)}[config];",
        )
        | _confidence(problem, i, b, margins)
        for i, (b, q) in enumerate(tables.bounds)
    ]
    objective = (
        _goal_entry(problem, tables.goal.name, names.rank_var(tables.goal.name))
        if tables.goal
        else None
    )
    return Encoded(
        "enumerated", model, data, surrogates, constraints, objective, tables.size, tables
    )


def _mip(problem, fitted, models, data_file) -> Encoded:
    model, data, entries, ctx = render_mip(problem, fitted, data_file, models)
    margins = conformal.margins(problem, fitted)
    constraints = []
    for i, (b, c) in enumerate(zip(problem.bounds, ctx["constraints"], strict=True)):
        mzn = c["mzn"]
        if i in margins:  # each pair's margin, switched on by its run[p]
            tightened = conformal.mip_constraint(c["var"], b, margins[i])
            model, mzn = model.replace(mzn, tightened, 1), tightened
        entry = _bound_entry(b, c["quantity"], c["var"], mzn)
        constraints.append(entry | _confidence(problem, i, b, margins))
    objective = None
    if ctx["objective"]:
        goal = ctx["objective"]
        objective = _goal_entry(problem, goal["quantity"], goal["var"])
    return Encoded("mip", model, data, entries, constraints, objective, None)


__all__ = ["Encoded", "encode", "names", "shape_for"]
