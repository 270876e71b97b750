"""A MIP build solved one (algorithm, hardware) pair at a time.

The one model couples every pair through `run` and leaves the solver to branch among them;
solved alone, a pair's model is smaller and its relaxation tighter. Each pair is a solve of
the same build with the query's pairs restricted to it (`PAIR_OPEN`, query data) and the
best objective found so far as a strict bound: a pair that cannot beat it comes back
INFEASIBLE, which is its proof. When the objective is a target, the pairs go in the order
of the best value their surrogate can give (its MIP encoding's bounds), most promising
first, and a pair whose best cannot beat the incumbent is not solved at all (BOUNDED). Up
to `jobs` pairs run at once, each starting with the incumbent of its start. The answer is
the best pair's, OPTIMAL when every pair was settled (optimal, unable to beat the
incumbent, or bounded), and comes with what each pair gave, in the manifest's order.

When the build's CP model can tell (trees on finite params, `hadac.propagate`), a local
search on the fitted models gives the first incumbent before any solve, and each pair's
params are narrowed to the values that may beat or tie it. A pair left with none is BOUNDED
too; a pair left with a few configurations (`BOX_SEARCH_LIMIT`) has every one of them
decided by `predict`, which settles it without a solve (DECIDED: narrowing never removes a
configuration that ties or beats the incumbent, so nothing on the pair that could beat it
is left undecided); the others are solved over the values left, under the best of those.
This is what lets a MIP solver prove an optimum over deep tree ensembles in seconds: the
narrowing does at once most of the branching their weak relaxation would need.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from hadac import cpsolve, propagate, runtime
from hadac.builddir import BuildDir
from hadac.query import Limit, Objective, Query
from hadac.solve import Point, evaluate_point, run, verify

# Configurations of a narrowed pair decided by `predict`, which settles it, at most.
BOX_SEARCH_LIMIT = 20_000
# What settles a pair.
SETTLED = ("OPTIMAL", "INFEASIBLE", "BOUNDED", "DECIDED")


@dataclass(frozen=True)
class PairOutcome:
    """What one pair's solve said: its status, and its objective when it had a point."""

    algorithm: str
    hardware: str
    # OPTIMAL, FEASIBLE, INFEASIBLE (nothing beats the bound), BOUNDED (its surrogate's
    # best, or its trees' bounds at every value of a param, cannot beat the bound: not
    # solved), DECIDED (every configuration narrowing left decided by `predict`: not
    # solved), UNKNOWN
    status: str
    bound: float | None  # the incumbent it had to beat, None when there was none yet
    objective: float | None
    seconds: float

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class _Incumbent:
    """The best pair's answer so far."""

    value: float | None = None
    point: Point | None = None
    result: runtime.SolveResult | None = None


def solve_by_pair(
    build: BuildDir, query: Query, solver: str, time_limit: float | None, jobs: int
) -> tuple[runtime.SolveResult, Point | None, list[PairOutcome]]:
    """The query's answer from one solve per pair; `query` must have an objective."""
    objective = query.objective
    assert objective is not None and not build.enumerated
    better = (lambda a, b: a < b) if objective.sense == "minimize" else (lambda a, b: a > b)
    lock = threading.Lock()
    best = _Incumbent()
    outcomes: dict[int, PairOutcome] = {}
    results: list[runtime.SolveResult] = []
    narrowing = propagate.Narrowing.of(build, query)
    decided: dict[int, _Decided] = {}
    if narrowing is not None:
        decided = _guess(build, query, narrowing, best)

    def one(index: int) -> None:
        """Pair `index`, bounded by the incumbent when it starts."""
        pair = build.manifest.pairs[index - 1]
        if index in decided:
            d = decided[index]
            outcomes[index] = PairOutcome(
                pair.algorithm, pair.hardware, "DECIDED", d.bound, d.objective, d.seconds
            )
            return
        with lock:
            bound = best.value
        started = time.perf_counter()
        hope = _best_possible(build, objective, pair.algorithm, pair.hardware)
        ranges: tuple | None = ()  # the params' narrowed ranges; None: narrowed away
        if narrowing is not None and bound is not None:
            left = narrowing.left(index, bound)
            ranges = None if left is None else narrowing.ranges(index, left)
        if bound is not None and (ranges is None or (hope is not None and not better(hope, bound))):
            seconds = time.perf_counter() - started
            with lock:
                outcomes[index] = PairOutcome(
                    pair.algorithm, pair.hardware, "BOUNDED", bound, None, seconds
                )
            return
        limits = query.limits
        if bound is not None:
            op = "<=" if objective.sense == "minimize" else ">="
            text = f"{objective.quantity} {op[0]} {bound!r}"
            limits += (Limit(objective.quantity, op, bound, text, strict=True),)
        restricted = dataclasses.replace(query, limits=limits, pairs=(index,), ranges=ranges)
        result, point = run(build, restricted, solver, time_limit, verified=query)
        value = point.quantities[objective.quantity] if point is not None else None
        seconds = time.perf_counter() - started
        with lock:
            results.append(result)
            if value is not None and (best.value is None or better(value, best.value)):
                best.value, best.point, best.result = value, point, result
            outcomes[index] = PairOutcome(
                pair.algorithm, pair.hardware, result.status, bound, value, seconds
            )

    indices = range(1, len(build.manifest.pairs) + 1)
    # The pool starts the pairs in this order, `jobs` at a time; each reads the incumbent
    # when it starts. A solver's error is the answer's error.
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="hadac-pair") as pool:
        list(pool.map(one, _most_promising_first(build, objective, list(indices))))
    ordered = [outcomes[index] for index in indices]
    proven = all(o.status in SETTLED for o in ordered)
    if best.point is None:
        status = "INFEASIBLE" if proven else "UNKNOWN"
    else:
        status = "OPTIMAL" if proven else "FEASIBLE"
    statistics = {
        key: sum(r.seconds(key) or 0.0 for r in results) for key in ("flatTime", "solveTime")
    }
    values = dict(best.result.values) if best.result is not None else {}
    return runtime.SolveResult(status, values, statistics), best.point, ordered


@dataclass(frozen=True)
class _Decided:
    """A pair settled by `predict` on every configuration narrowing left under `bound`."""

    bound: float
    objective: float | None  # the best of them, None when none meets the query
    seconds: float


def _guess(
    build: BuildDir, query: Query, narrowing: propagate.Narrowing, best: _Incumbent
) -> dict[int, _Decided]:
    """`best` from the fitted models before any solve, when they find a configuration that
    meets every bound: a local search's (`cpsolve.guess`), then the best of every pair's
    configurations left by narrowing under the best so far, on the pairs that leave at most
    `BOX_SEARCH_LIMIT`. Those pairs are settled: they come back by index."""
    values = cpsolve.guess(build, query)
    if values is None:
        return {}
    _keep(build, query, values, best)
    decided = {}
    for index in range(1, len(build.manifest.pairs) + 1):
        started, bound = time.perf_counter(), best.value
        left = narrowing.left(index, bound)
        boxes = [] if left is None else propagate.configurations(index, left, BOX_SEARCH_LIMIT)
        if not boxes:
            continue  # narrowed away (BOUNDED when it is solved) or too many to decide
        found = cpsolve.best_of(build, query, boxes)
        value = None if found is None else _keep(build, query, found, best)
        decided[index] = _Decided(bound, value, time.perf_counter() - started)
    return decided


def _keep(build: BuildDir, query: Query, values: dict, best: _Incumbent) -> float:
    """The objective of the configuration of solver `values`, verified; it becomes `best`
    when it is better."""
    point = evaluate_point(build, values)
    verify(build, query, point)
    value = point.quantities[query.objective.quantity]
    minimize = query.objective.sense == "minimize"
    if best.value is None or (value < best.value if minimize else value > best.value):
        best.value, best.point = value, point
        best.result = runtime.SolveResult("FEASIBLE", values, {})
    return value


def _best_possible(
    build: BuildDir, objective: Objective, algorithm: str, hardware: str
) -> float | None:
    """The best value the objective can take on a pair when it is a target: its surrogate's
    lower bound to minimise, upper to maximise; None when unknown (a let or an expression,
    or a build that kept no bounds)."""
    if objective.quantity not in {t.name for t in build.manifest.targets}:
        return None
    bounds = build.manifest.surrogate(algorithm, hardware, objective.quantity).bounds
    if bounds is None:
        return None
    return bounds[0] if objective.sense == "minimize" else bounds[1]


def _most_promising_first(build: BuildDir, objective: Objective, pairs: list[int]) -> list[int]:
    """The pairs by their best possible objective, best first; those without one last, in
    the manifest's order."""

    def key(index: int) -> tuple:
        pair = build.manifest.pairs[index - 1]
        hope = _best_possible(build, objective, pair.algorithm, pair.hardware)
        if hope is None:
            return (1, 0.0, index)
        return (0, hope if objective.sense == "minimize" else -hope, index)

    return sorted(pairs, key=key)
