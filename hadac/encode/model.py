"""Choosing a model shape and encoding a problem in it: the model text, its fixed data, and
the manifest records of its quantities, constraints and objective."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hadac import conformal, surrogates
from hadac.encode import cp, mip, names
from hadac.encode.cp import CpOffer
from hadac.encode.quantities import Definition, definitions, quantity_of
from hadac.encode.render import render, render_mip
from hadac.encode.tables import build_tables
from hadac.manifest import ConstraintRecord, ObjectiveRecord, PairMargin, QuantityRecord
from hadac.problem import Problem
from hadac.units import pretty, to_json, written_as

ENUMERATION_LIMIT = 100_000
# A ReLU network's MIP encoding is the slowest to solve (docs/performance.md, "Which shape"):
# 705,894 configurations of a 3-param study with `mlp(hidden = [16])` surrogates took 13 s
# enumerated with Gecode and had no proof after 120 s with COIN-BC on the MIP shape.
NETWORK_ENUMERATION_LIMIT = 1_000_000


@dataclass
class Encoded:
    """A rendered model, its fixed data, and what the manifest needs to say about it."""

    shape: str  # "enumerated" or "mip"
    model: str
    data: dict[str, object]
    surrogates: list[dict]  # encoding and size, one per (pair, target), pair-major
    quantities: list[QuantityRecord]
    constraints: list[ConstraintRecord]
    objective: ObjectiveRecord | None
    configurations: int | None
    tables: dict[str, np.ndarray] | None = None  # enumerated: values per configuration
    cp: CpOffer | None = None  # mip: its CP model, or why it has none


def shape_for(problem: Problem) -> str:
    """Enumerate when every domain is finite, the configurations few (up to
    ENUMERATION_LIMIT, or NETWORK_ENUMERATION_LIMIT when a target is a ReLU network), and no
    target asks for a MIP encoding."""
    if any(t.encoding not in (None, "table") for t in problem.targets):
        return "mip"
    if not all(p.finite for a in problem.algorithms for p in a.params):
        return "mip"
    sizes = {a.name: math.prod(len(p.values) for p in a.params) for a in problem.algorithms}
    networks = any(surrogates.kind(t.kind).structure == "relu" for t in problem.targets)
    limit = NETWORK_ENUMERATION_LIMIT if networks else ENUMERATION_LIMIT
    return "enumerated" if sum(sizes[p.algorithm] for p in problem.pairs) <= limit else "mip"


def encode(
    problem: Problem, fitted: dict, models: dict, data_file: str, cp_data_file: str
) -> Encoded:
    """The model of the shape `shape_for` picks; a MIP model comes with its CP model
    (reading `cp_data_file`) where CP solvers can take the build."""
    wanted = definitions(problem)
    if shape_for(problem) == "enumerated":
        return _enumerated(problem, fitted, models, data_file, wanted)
    return _mip(problem, fitted, models, data_file, wanted, cp_data_file)


def _statements(problem: Problem, fitted: dict, wanted: list[Definition]):
    """The manifest records of the spec's constraints and objective, on their quantities."""
    margins = conformal.margins(problem, fitted)
    constraints = []
    for index, bound in enumerate(problem.bounds):
        pair_margins = ()
        if index in margins:
            pair_margins = tuple(
                PairMargin(p.algorithm, p.hardware, m)
                for p, m in zip(problem.pairs, margins[index], strict=True)
            )
        constraints.append(
            ConstraintRecord(
                bound.text,
                bound.line,
                quantity_of(problem, wanted, bound.expr).name,
                bound.op,
                bound.bound,
                pretty(bound.unit),
                bound.confidence,
                pair_margins,
                written_as(bound.unit, bound.written_unit),
            )
        )
    objective = None
    if problem.goal is not None:
        goal = problem.goal
        objective = ObjectiveRecord(
            goal.sense,
            goal.text,
            goal.line,
            quantity_of(problem, wanted, goal.expr).name,
            pretty(goal.unit),
        )
    return constraints, objective


def _record(definition: Definition, var: str, low: float, high: float, distinct=None):
    return QuantityRecord(
        definition.name,
        definition.kind,
        definition.text,
        definition.line,
        definition.unit,
        to_json(definition.expr),
        var,
        float(low),
        float(high),
        distinct,
    )


def _enumerated(problem, fitted, models, data_file, wanted) -> Encoded:
    tables = build_tables(problem, fitted, wanted)
    model, data = render(problem, tables, data_file, models)
    surrogates = [
        {
            "encoding": "table",
            "size": {"table_rows": last - first + 1, "configurations": [first, last]},
        }
        for first, last in tables.pair_ranges
        for _ in problem.targets
    ]
    quantities = [
        _record(
            q.definition,
            names.rank_var(q.name),
            q.values.min(),
            q.values.max(),
            len(q.distinct),
        )
        for q in tables.quantities
    ]
    arrays = {"pair": tables.pair}
    arrays |= {names.value_array(q.name): q.values for q in tables.quantities}
    arrays |= {
        names.param_array(algorithm, param): column
        for (algorithm, param), column in tables.params.items()
    }
    constraints, objective = _statements(problem, fitted, wanted)
    return Encoded(
        "enumerated",
        model,
        data,
        surrogates,
        quantities,
        constraints,
        objective,
        tables.size,
        arrays,
    )


def _mip(problem, fitted, models, data_file, wanted, cp_data_file) -> Encoded:
    model, data, entries, ctx = render_mip(problem, fitted, data_file, models, wanted)
    quantities = [
        _record(
            next(d for d in wanted if d.name == q["name"]),
            q["var"],
            q["low_value"],
            q["high_value"],
        )
        for q in ctx["quantities"]
    ]
    constraints, objective = _statements(problem, fitted, wanted)
    offer = cp.encode(
        problem, fitted, mip.encodings_of(problem), wanted, ctx["quantities"], cp_data_file
    )
    return Encoded("mip", model, data, entries, quantities, constraints, objective, None, cp=offer)
