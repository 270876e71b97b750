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
from hadac.query import Limit, Objective, ParamRange, Query
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

    def offer(
        self, value: float | None, point: Point | None, result: runtime.SolveResult, sense: str
    ) -> None:
        """`point`, of objective `value`, becomes the incumbent when it beats it (any value
        beats none; None, no point, beats nothing)."""
        if value is not None and (self.value is None or _beats(value, self.value, sense)):
            self.value, self.point, self.result = value, point, result


def _beats(value: float, bound: float, sense: str) -> bool:
    """Whether `value` is strictly better than `bound` for an objective of `sense`."""
    return value < bound if sense == "minimize" else value > bound


def solve_by_pair(
    build: BuildDir, query: Query, solver: str, time_limit: float | None, jobs: int
) -> tuple[runtime.SolveResult, Point | None, list[PairOutcome]]:
    """The query's answer from one solve per pair; `query` must have an objective."""
    objective = query.objective
    assert objective is not None and not build.enumerated
    lock = threading.Lock()
    best = _Incumbent()
    results: list[runtime.SolveResult] = []
    narrowing = propagate.Narrowing.of(build, query)
    outcomes, decided = ({}, 0) if narrowing is None else _guess(build, query, narrowing, best)

    def one(index: int) -> None:
        """Pair `index`, bounded by the incumbent when it starts."""
        if index in outcomes:
            return  # decided
        pair = build.manifest.pairs[index - 1]
        with lock:
            bound = best.value
        started = time.perf_counter()
        ranges = _ranges(build, query, narrowing, index, bound)
        if ranges is None:
            seconds = time.perf_counter() - started
            with lock:
                outcomes[index] = PairOutcome(
                    pair.algorithm, pair.hardware, "BOUNDED", bound, None, seconds
                )
            return
        restricted = dataclasses.replace(
            query, limits=_beating(query, bound), pairs=(index,), ranges=ranges
        )
        result, point = run(build, restricted, solver, time_limit, verified=query)
        value = point.quantities[objective.quantity] if point is not None else None
        seconds = time.perf_counter() - started
        with lock:
            results.append(result)
            best.offer(value, point, result, objective.sense)
            outcomes[index] = PairOutcome(
                pair.algorithm, pair.hardware, result.status, bound, value, seconds
            )

    indices = range(1, len(build.manifest.pairs) + 1)
    # The pool starts the pairs in this order, `jobs` at a time; each reads the incumbent
    # when it starts. A solver's error is the answer's error.
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="hadac-pair") as pool:
        list(pool.map(one, _most_promising_first(build, objective, list(indices))))
    return _answer(best, [outcomes[index] for index in indices], results, decided)


def solve_settled(
    build: BuildDir, query: Query, solver: str, time_limit: float | None
) -> tuple[runtime.SolveResult, Point | None, list[PairOutcome]]:
    """A CP solver's answer to a query that `propagate.narrows` on `build`: the pairs
    settled first as `solve_by_pair` settles them (bounded, or decided by `predict`), then
    one solve of the CP model over the pairs left, which starts from the incumbent (its cut
    lists only what may tie or beat it); each of those pairs reports that solve's status."""
    objective = query.objective
    best = _Incumbent()
    narrowing = propagate.Narrowing.of(build, query)
    outcomes, decided = _guess(build, query, narrowing, best)
    pairs = build.manifest.pairs
    bound, left = best.value, []
    for index in range(1, len(pairs) + 1):
        if index in outcomes:
            continue
        started = time.perf_counter()
        if _ranges(build, query, narrowing, index, bound) is not None:
            left.append(index)
            continue
        pair = pairs[index - 1]
        seconds = time.perf_counter() - started
        outcomes[index] = PairOutcome(
            pair.algorithm, pair.hardware, "BOUNDED", bound, None, seconds
        )
    results = []
    if left:
        started = time.perf_counter()
        restricted = dataclasses.replace(query, pairs=tuple(left))
        found = None if best.result is None else cpsolve.configuration(build, best.result.values)
        result, point = run(build, restricted, solver, time_limit, start=cpsolve.Start(found))
        results.append(result)
        value = point.quantities[objective.quantity] if point is not None else None
        best.offer(value, point, result, objective.sense)
        seconds = time.perf_counter() - started
        answered = None if point is None else (point.algorithm, point.hardware)
        for index in left:
            pair = pairs[index - 1]
            own = value if answered == (pair.algorithm, pair.hardware) else None
            outcomes[index] = PairOutcome(
                pair.algorithm, pair.hardware, result.status, bound, own, seconds
            )
    ordered = [outcomes[index] for index in range(1, len(pairs) + 1)]
    return _answer(best, ordered, results, decided)


def _answer(
    best: _Incumbent,
    outcomes: list[PairOutcome],
    results: list[runtime.SolveResult],
    decided: int,
) -> tuple[runtime.SolveResult, Point | None, list[PairOutcome]]:
    """The best pair's answer, OPTIMAL when every pair is settled, with every pair's
    outcome in the manifest's order and how many configurations `predict` decided for it
    (`decided` of decided pairs, and those of CP solves)."""
    proven = all(o.status in SETTLED for o in outcomes)
    if best.point is None:
        status = "INFEASIBLE" if proven else "UNKNOWN"
    else:
        status = "OPTIMAL" if proven else "FEASIBLE"
    statistics = {
        key: sum(r.seconds(key) or 0.0 for r in results) for key in ("flatTime", "solveTime")
    }
    listed = [r.statistics["candidates"] for r in results if "candidates" in r.statistics]
    if decided or listed:
        statistics["candidates"] = decided + sum(listed)
    values = dict(best.result.values) if best.result is not None else {}
    return runtime.SolveResult(status, values, statistics), best.point, outcomes


def _beating(query: Query, bound: float | None) -> tuple[Limit, ...]:
    """The query's limits, and the objective strictly better than `bound` when there is
    one."""
    objective = query.objective
    if bound is None:
        return query.limits
    op = "<=" if objective.sense == "minimize" else ">="
    text = f"{objective.quantity} {op[0]} {bound!r}"
    return (*query.limits, Limit(objective.quantity, op, bound, text, strict=True))


def _ranges(
    build: BuildDir,
    query: Query,
    narrowing: propagate.Narrowing | None,
    index: int,
    bound: float | None,
) -> tuple[ParamRange, ...] | None:
    """The narrowed ranges of pair `index`'s params under `bound` (none without a bound or
    a narrowing); None when the pair cannot beat `bound`, by its surrogate's best or by
    narrowing."""
    if bound is None:
        return ()
    pair = build.manifest.pairs[index - 1]
    hope = _best_possible(build, query.objective, pair.algorithm, pair.hardware)
    if hope is not None and not _beats(hope, bound, query.objective.sense):
        return None
    if narrowing is None:
        return ()
    left = narrowing.left(index, bound)
    return None if left is None else narrowing.ranges(index, left)


def _guess(
    build: BuildDir, query: Query, narrowing: propagate.Narrowing, best: _Incumbent
) -> tuple[dict[int, PairOutcome], int]:
    """`best` from the fitted models before any solve, when they find a configuration that
    meets every bound: a local search's (`cpsolve.guess`), then the best of every pair's
    configurations left by narrowing under the best so far, on the pairs that leave at most
    `BOX_SEARCH_LIMIT`. Those pairs are settled (DECIDED): their outcomes, by index, and
    how many configurations they had."""
    values = cpsolve.guess(build, query)
    if values is None:
        return {}, 0
    _keep(build, query, values, best)
    decided, count = {}, 0
    for index, pair in enumerate(build.manifest.pairs, start=1):
        started, bound = time.perf_counter(), best.value
        left = narrowing.left(index, bound)
        boxes = [] if left is None else propagate.configurations(index, left, BOX_SEARCH_LIMIT)
        if not boxes:
            continue  # narrowed away (BOUNDED when it is solved) or too many to decide
        found = cpsolve.best_of(build, query, boxes)
        count += len(boxes)
        value = None if found is None else _keep(build, query, found, best)
        seconds = time.perf_counter() - started
        decided[index] = PairOutcome(
            pair.algorithm, pair.hardware, "DECIDED", bound, value, seconds
        )
    return decided, count


def _keep(build: BuildDir, query: Query, values: dict, best: _Incumbent) -> float:
    """The objective of the configuration of solver `values`, verified; it becomes `best`
    when it is better."""
    point = evaluate_point(build, values)
    verify(build, query, point)
    value = point.quantities[query.objective.quantity]
    best.offer(value, point, runtime.SolveResult("FEASIBLE", values, {}), query.objective.sense)
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
