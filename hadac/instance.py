"""A query as the data of one solve of a build's fixed model.

Every quantity of the build has an upper and a lower bound in the model, each switched on
or off and given per pair (a confidence margin differs by pair), and the objective is a
weight per quantity. In the enumerated model the bounds are ranks: the highest (or lowest)
rank whose value meets the bound, found in the saved tables; in the MIP model they are the
values themselves, as one bound and each pair's margin under it. Several limits on one
quantity and direction combine into the tightest.
"""

from __future__ import annotations

import math

from hadac import openleaves
from hadac.builddir import BuildDir
from hadac.encode import names
from hadac.encode.tables import threshold
from hadac.errors import HadacError
from hadac.query import Limit, Query

INT_LIMIT = 2**31 - 1  # CP solvers' integers: an enumerated objective must stay below
TOLERANCE = 1e-9  # how far below a value a MIP's strict bound asks for, relative


def data(build: BuildDir, query: Query) -> dict[str, object]:
    """The MiniZinc data of `query` on `build`: the instance inputs' part (an enumerated
    model's ranks at them, or a MIP model's input values), bounds of every quantity, then
    WEIGHT."""
    build = build.at(query.input_values())
    manifest = build.manifest
    known = {q.name for q in manifest.quantities}
    for limit in query.limits:
        if limit.quantity not in known:
            raise HadacError(f"'{limit.text}': this build has no quantity '{limit.quantity}'")
    out: dict[str, object] = {}
    if manifest.inputs and build.enumerated:
        for q in manifest.quantities:
            out[names.distinct_count(q.name)] = len(build.distinct(q.name))
            out[names.rank_array(q.name)] = [int(r) for r in build.ranks(q.name)]
    elif manifest.inputs:
        out |= {i.var: float(build.inputs[i.name]) for i in manifest.inputs}
    for q in manifest.quantities:
        for op, use, bound, margin in (
            ("<=", names.use_upper, names.upper, names.upper_margin),
            (">=", names.use_lower, names.lower, names.lower_margin),
        ):
            limits = [x for x in query.limits if (x.quantity, x.op) == (q.name, op)]
            per_pair = _per_pair(build, q.name, op, limits)
            out[use(q.name)] = bool(limits)
            if build.enumerated:
                out[bound(q.name)] = per_pair
            else:  # the loosest pair's bound, and how much tighter each pair's is
                loosest = (max if op == "<=" else min)(per_pair)
                out[bound(q.name)] = loosest
                out[margin(q.name)] = [abs(loosest - x) for x in per_pair]
    if not build.enumerated:
        pairs = range(1, len(manifest.pairs) + 1)
        out["PAIR_OPEN"] = [query.pairs is None or p in query.pairs for p in pairs]
        out["PARAM_FROM"], out["PARAM_TO"] = _param_ranges(build, query)
        out |= openleaves.data(build, query)
    elif query.pairs is not None or query.ranges:
        raise HadacError("an enumerated model is solved whole, not pair by pair")
    out["WEIGHT"] = _weights(build, query)
    return out


def _param_ranges(build: BuildDir, query: Query) -> tuple[list[float], list[float]]:
    """Each param's least and greatest value in the MIP model: its domain's, or the query's
    narrower range."""
    given = {(r.algorithm, r.param): r for r in query.ranges}
    low, high = [], []
    for algorithm, params in build.manifest.params.items():
        for p in params:
            r = given.get((algorithm, p.name))
            low.append(p.low if r is None else r.low)
            high.append(p.high if r is None else r.high)
    return low, high


def _per_pair(build: BuildDir, quantity: str, op: str, limits: list[Limit]) -> list:
    """Each pair's bound: the tightest of `limits`, each with that pair's margin."""
    pairs = build.manifest.pairs
    if not limits:  # switched off; the loosest rank, which the model's domain allows
        loosest = (len(build.distinct(quantity)) if op == "<=" else 1) if build.enumerated else 0.0
        return [loosest] * len(pairs)
    tightest = min if op == "<=" else max
    if build.enumerated:
        distinct = build.distinct(quantity)
        return [
            tightest(
                threshold(distinct, op, x.limit(x.margin(p.algorithm, p.hardware)), x.strict)
                for x in limits
            )
            for p in pairs
        ]
    return [
        tightest(_mip_limit(x, x.limit(x.margin(p.algorithm, p.hardware))) for x in limits)
        for p in pairs
    ]


def _mip_limit(limit: Limit, value: float) -> float:
    """A MIP bound: strict ones a relative hair inside, since MIP solvers know no `<`."""
    if not limit.strict:
        return value
    step = TOLERANCE * max(abs(value), 1e-300)
    return value - step if limit.op == "<=" else value + step


def _weights(build: BuildDir, query: Query) -> list:
    """The objective as a weight per quantity, for a model that always minimises."""
    quantities = build.manifest.quantities
    index = {q.name: i for i, q in enumerate(quantities)}
    objective = query.objective
    weights: list = [0 if build.enumerated else 0.0] * len(quantities)
    if objective is None:
        return weights
    sign = 1 if objective.sense == "minimize" else -1
    if build.enumerated:
        # Lexicographic ranks: `rank1 * (D2 + 1) + rank2` orders by the first, then the second.
        first = index[objective.quantity]
        if objective.then is None:
            weights[first] = sign
            return weights
        if not combined_fits(build, objective.quantity, objective.then):
            raise HadacError("the two objectives' ranks do not fit one 32-bit objective")
        second = index[objective.then]
        weights[first], weights[second] = sign * (len(build.distinct(objective.then)) + 1), sign
        return weights
    if objective.then is not None:
        raise HadacError("a MIP model optimises one quantity at a time")
    q = quantities[index[objective.quantity]]
    weights[index[objective.quantity]] = sign * scale(q.low, q.high)
    return weights


def scale(low: float, high: float) -> float:
    """A power of ten that brings a MIP objective to about 1, so that the solver's absolute
    tolerances do not swamp small values."""
    magnitude = max(abs(low), abs(high))
    return 10.0 ** -math.floor(math.log10(magnitude)) if magnitude > 0 else 1.0


def combined_fits(build: BuildDir, first: str, then: str) -> bool:
    """Whether one enumerated solve can order by `first`, then `then` (at the build's inputs)."""
    if not build.enumerated:
        return False
    top = len(build.distinct(then)) + 1
    return len(build.distinct(first)) * top + top < INT_LIMIT
