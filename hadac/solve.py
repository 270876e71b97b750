"""`hadac solve`: ask a build a query, verify the answer, explain infeasibility.

The solver only picks a configuration. What hadac reports about it comes from the fitted
estimators' `predict`, never from the solver: the tables the solver saw must agree with
`predict` to 1e-6 relative, and every constraint must hold on the predicted values, or the
answer is an error naming the surrogate or constraint at fault.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hadac import cpsolve, instance, jsondata, prepared, propagate, runtime, solvers
from hadac.builddir import BuildDir, Decoded
from hadac.errors import HadacError
from hadac.numbers import plain, shown
from hadac.query import Limit, Objective, Query
from hadac.units import evaluate, from_json

FORMAT_VERSION = 1
TOLERANCE = 1e-6
# MIP solvers hold constraints to absolute tolerances (about 1e-9 here), which a target valued
# near 1e-5 (emissions in kg) cannot meet relatively: a MIP model's values agree with
# `predict` within 1e-6 relative or this much absolute.
MIP_ABSOLUTE = 1e-8


def close(a: float, b: float, tolerance: float = TOLERANCE) -> bool:
    """Equal within `tolerance` relative to the larger magnitude (exactly equal at zero)."""
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


@dataclass
class Point:
    """A choice with every figure re-evaluated by `predict`, beside what the solver said."""

    algorithm: str
    hardware: str
    params: dict
    predicted: dict[str, float]
    quantities: dict[str, float]  # objective and constraint quantities, by name
    solver: Decoded
    lets: dict[str, float] = field(default_factory=dict)  # each let's value, by name
    declared: str | None = None  # the hardware as the spec declares it
    location: str | None = None  # where it runs, when the spec or --location says

    @property
    def location_chosen(self) -> bool:
        """Whether the location was a decision: one of several the hardware lists."""
        return self.declared is not None and self.declared != self.hardware

    def label(self) -> str:
        params = ", ".join(f"{k} = {plain(v)}" for k, v in self.params.items())
        where = f"{self.declared} in {self.location}" if self.location_chosen else self.hardware
        return f"{self.algorithm} on {where}" + (f", {params}" if params else "")


def evaluate_point(build: BuildDir, values: dict) -> Point:
    """Decode the solver's values, predict every target there, recompute every quantity."""
    manifest = build.manifest
    decoded = build.decode(values)
    algorithm, hardware, params = decoded.algorithm, decoded.hardware, decoded.params
    predicted = {
        t.name: build.predict(algorithm, hardware, params, t.name) for t in manifest.targets
    }
    values = {**build.hardware_attributes(hardware), **predicted}
    with np.errstate(all="ignore"):
        quantities = {
            q.name: float(evaluate(from_json(q.expr), values)) for q in manifest.quantities
        }
        lets = {x.name: float(evaluate(from_json(x.expr), values)) for x in manifest.lets}
    entry = manifest.hardware_entry(hardware)
    return Point(
        algorithm,
        hardware,
        params,
        predicted,
        quantities,
        decoded,
        lets,
        entry.declared,
        entry.location,
    )


def verify(build: BuildDir, query: Query, point: Point) -> list[dict]:
    """Check the solver's values against `predict` and the query's limits on predicted values.

    Returns one row per limit (value, bound, holds); raises `HadacError` on any
    disagreement beyond the tolerance or any violated limit.
    """
    problems = []

    def agree(said: float, value: float) -> bool:
        return close(said, value) or (not build.enumerated and abs(said - value) <= MIP_ABSOLUTE)

    for target, value in point.predicted.items():
        said = point.solver.targets[target]
        if not agree(said, value):
            model = build.manifest.surrogate(point.algorithm, point.hardware, target).model
            problems.append(
                f"surrogate '{target}' of {point.algorithm} on {point.hardware} ({model}):"
                f" the model gives {said!r} but predict gives {value!r}"
            )
    for q in build.manifest.quantities:
        said, value = point.solver.quantities[q.name], point.quantities[q.name]
        if q.kind != "target" and not agree(said, value):
            problems.append(
                f"line {q.line}: '{q.text}': the model gives {said!r}"
                f" but the predictions give {value!r}"
            )
    rows = []
    for limit in query.limits:
        value = point.quantities[limit.quantity]
        margin = limit.margin(point.algorithm, point.hardware)
        holds = limit.holds(value, margin)
        row = {
            "text": limit.text,
            "line": limit.line,
            "op": limit.op,
            "bound": limit.bound,
            "unit": limit.unit,
            "value": value,
            "holds": holds,
        }
        if limit.confidence is not None:
            row.update(confidence=limit.confidence, margin=margin)
        if limit.written.unit:  # the figures in the unit the bound was written in, for people
            scale = limit.written.scale
            row["written"] = {"value": value * scale, "unit": limit.written.unit}
            if "margin" in row:
                row["written"]["margin"] = margin * scale
        rows.append(row)
        if not holds:
            where = f"line {limit.line}: " if limit.line else ""
            with_margin = f" with margin {margin!r}" if limit.confidence is not None else ""
            problems.append(
                f"{where}'{limit.text}' is violated by the answer:"
                f" {value!r} {limit.unit}{with_margin}".rstrip()
            )
    if problems:
        raise HadacError("the solver's answer failed verification:\n  " + "\n  ".join(problems))
    return rows


@dataclass
class Answer:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    solver: str
    where: str
    query: Query
    point: Point | None
    objective: float | None
    constraints: list[dict]
    timings: dict[str, float | None]
    units: dict[str, str]
    objective_unit: str | None = None
    explanations: list[str] = field(default_factory=list)
    interrupted: bool = False
    pairs: list = field(default_factory=list)  # each pair's outcome, when solved pair by pair
    # configurations `predict` decided: the CP model's within its rounding, and those
    # narrowing left on pairs it decided (hadac.bypair)
    candidates: int | None = None

    @property
    def objective_text(self) -> str | None:
        return self.query.objective.text if self.query.objective else None

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130  # as a shell reports a program stopped by Ctrl-C
        if self.point is not None:
            return 0
        return 2 if self.status == "INFEASIBLE" else 3

    def _repr_html_(self) -> str:
        """A notebook shows the answer as a table (`hadac.notebook`)."""
        from hadac.notebook import answer_html

        return answer_html(self)

    def to_json(self) -> dict:
        p = self.point
        return {
            "format_version": FORMAT_VERSION,
            "status": self.status,
            "query": self.query.to_json(),
            "objective": self.objective,
            "objective_unit": self.objective_unit,
            "choice": (
                {"hardware": p.hardware, "algorithm": p.algorithm, "params": p.params}
                if p
                else None
            ),
            "predicted": p.predicted if p else None,
            "location": (
                {"hardware": p.declared, "code": p.location, "chosen": p.location_chosen}
                if p
                else None
            ),
            "lets": p.lets if p else None,
            "inputs": [v.to_json() for v in self.query.inputs],
            "units": self.units,
            "constraints": self.constraints,
            "verified": p is not None,
            "solver": {"name": self.solver, "where": self.where},
            "timings": self.timings,
            "explanations": self.explanations,
            "interrupted": self.interrupted,
            "candidates": self.candidates,
        } | ({"pairs": [o.to_json() for o in self.pairs]} if self.pairs else {})


def check_solver(build: BuildDir, solver: str) -> None:
    """A CP solver takes a MIP build only through its CP model: said before anything runs."""
    model = build.manifest.model
    if _by_cp(build, solver) and model.cp is None:
        raise HadacError(
            f"{solver} is a CP solver and this build has no CP model ({model.cp_refused}):"
            " CP solvers take a MIP build when every param is finite, no algorithm reads"
            " instance inputs and every surrogate is a tree, forest, boosted trees, a ReLU"
            " network or a table; use cbc or highs"
        )
    if _by_cp(build, solver) and model.cp.networks and not solvers.get(solver).networks:
        raise HadacError(
            f"{solver} does not take the CP model of a ReLU network; use gecode, cbc or highs"
        )


def _by_cp(build: BuildDir, solver: str) -> bool:
    """Whether a solve goes through the CP model (`hadac.cpsolve`)."""
    return not build.enumerated and solvers.family(solver) == "CP"


def run(
    build: BuildDir,
    query: Query,
    solver: str,
    time_limit: float | None = None,
    verified: Query | None = None,
    start: cpsolve.Start | None = None,
) -> tuple[runtime.SolveResult, Point | None]:
    """One solve of the build's model with the query's data; the point found, verified
    against the limits of `verified` (by default the query's own), both at the query's
    inputs. A CP solve starts from `start` when given (`cpsolve.solve`)."""
    build = build.at(query.input_values())
    if _by_cp(build, solver):
        result = _cp_solved(build, query, solver, time_limit, start)
    else:
        result = _solved(build, solver, instance.data(build, query), time_limit)
    if query.objective is None and result.status == "OPTIMAL":
        result.status = "FEASIBLE"  # nothing to optimise: a configuration that meets the bounds
    if not result.values:
        return result, None
    point = evaluate_point(build, result.values)
    verify(build, verified or query, point)
    return result, point


class _Proven:
    """Proven results (optimal or infeasible) by what was solved: the same model, data and
    solver give the same result, so a what-if asked again in this process costs no solve.
    The oldest are forgotten beyond `size`."""

    def __init__(self, size: int = 4096):
        self.size, self._results, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key: tuple) -> runtime.SolveResult | None:
        with self._lock:
            result = self._results.get(key)
            if result is not None:
                self._results.move_to_end(key)
            return result

    def put(self, key: tuple, result: runtime.SolveResult) -> None:
        with self._lock:
            self._results[key] = result
            while len(self._results) > self.size:
                self._results.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()

    def recall(self, key: tuple) -> runtime.SolveResult | None:
        """A copy of the result proven for `key`, reporting no flatten or solve time."""
        known = self.get(key)
        if known is None:
            return None
        statistics = {"flatTime": 0.0, "solveTime": 0.0}
        return replace(known, values=dict(known.values), statistics=statistics)

    def remember(self, key: tuple, result: runtime.SolveResult) -> None:
        """Keep `result` for `key` when it is proven and was not interrupted."""
        if result.status in ("OPTIMAL", "INFEASIBLE") and not result.interrupted:
            self.put(key, replace(result, values=dict(result.values)))


_PROVEN = _Proven()


def forget_proven() -> None:
    """Drop the proven results kept so far: the next solve of each query runs the solver
    (benchmarks of the solve itself)."""
    _PROVEN.clear()


def _solved(
    build: BuildDir, solver: str, data: dict[str, object], time_limit: float | None
) -> runtime.SolveResult:
    """The solver's result on the build's model with a query's `data`: from a prepared
    FlatZinc where one applies (`hadac.prepared`), else through MiniZinc; a proven one is
    given again, without solving, for the same data (it reports no flatten or solve time)."""
    ready, fresh = prepared.prepare(build, solver, list(data))
    files = (build.model_path, build.data_path)
    key = (ready is not None, solver, *((str(p), p.stat().st_mtime_ns) for p in files))
    key += (jsondata.dumps(data),)
    known = _PROVEN.recall(key)
    if known is not None:
        return known
    if ready is not None:
        result = prepared.solve(ready, data, time_limit)
        result.statistics["flatTime"] = ready.seconds if fresh else 0.0
    else:
        with tempfile.TemporaryDirectory(prefix="hadac-query-") as folder:
            path = Path(folder) / "query.json"
            path.write_text(jsondata.dumps(data))
            if build.enumerated:
                result = runtime.solve([*files, path], solver, time_limit)
            else:
                result = _mip_solved([*files, path], solver, time_limit)
    _PROVEN.remember(key, result)
    return result


def _mip_solved(files: list[Path], solver: str, time_limit: float | None) -> runtime.SolveResult:
    """A MIP model's solve on MiniZinc's command line (its data is large: the `minizinc`
    package would read it twice), with the solver's MIP flags. Its solve time is what the
    run took after flattening: with intermediate solutions MiniZinc's own `solveTime` of a
    MIP solver counts from the start."""
    info = runtime.solver_info(solver)
    flags = dict(solvers.get(solver).mip_flags)
    started = time.perf_counter()
    run = runtime.command_line(info, files, time_limit, flags, intermediate=True)
    flattened = run.statistics.get("flatTime", 0.0)
    run.statistics["solveTime"] = max(0.0, time.perf_counter() - started - flattened)
    return runtime.SolveResult(run.status, run.values, run.statistics, run.interrupted)


def _cp_solved(
    build: BuildDir,
    query: Query,
    solver: str,
    time_limit: float | None,
    start: cpsolve.Start | None,
) -> runtime.SolveResult:
    """`cpsolve.solve`, a proven result given again for the same query, as `_solved` does."""
    files = [build.directory / name for name in build.manifest.model.cp.files]
    key = ("cp", prepared.enabled(), solver, *((str(p), p.stat().st_mtime_ns) for p in files))
    key += (query, start)
    result = _PROVEN.recall(key)
    if result is None:
        result = cpsolve.solve(build, query, solver, time_limit, start)
        _PROVEN.remember(key, result)
    return result


def solve_build(
    build: BuildDir,
    solver: str,
    time_limit: float | None = None,
    compile_seconds: float | None = None,
    query: Query | None = None,
    by_pair: int | None = None,
) -> Answer:
    """Solve a query (the spec's own by default), verify, and on infeasibility explain.
    `by_pair` jobs solve a MIP build's optimisation one pair at a time (`hadac.bypair`), 0
    as one model; by default (None) pair by pair, on the machine's cores, where the pairs
    can be narrowed (`propagate.narrows`: measured faster there, docs/performance.md). There
    a CP solver too has the pairs settled first, unless `by_pair` is 0, and solves the rest
    at once."""
    check_solver(build, solver)
    manifest = build.manifest
    query = query if query is not None else Query.of_spec(manifest)
    info = runtime.solver_info(solver)
    started = time.perf_counter()
    pairs = []
    by_mip = not build.enumerated and solvers.family(solver) == "MIP"
    if by_pair is None and by_mip and propagate.narrows(build, query):
        by_pair = runtime.default_jobs()
    if by_pair and by_mip and query.objective is not None:
        from hadac.bypair import solve_by_pair

        result, point, pairs = solve_by_pair(build, query, solver, time_limit, by_pair)
    elif by_pair != 0 and _by_cp(build, solver) and propagate.narrows(build, query):
        from hadac.bypair import solve_settled

        result, point, pairs = solve_settled(build, query, solver, time_limit)
    else:
        result, point = run(build, query, solver, time_limit)
    wall = time.perf_counter() - started
    objective_unit = manifest.quantity(query.objective.quantity).unit if query.objective else None
    answer = Answer(
        result.status,
        solver,
        info.where,
        query,
        point,
        None,
        [],
        {
            "compile": compile_seconds,
            "flatten": result.seconds("flatTime"),
            "solve": result.seconds("solveTime"),
            "wall": wall,
        },
        manifest.units(),
        objective_unit,
        interrupted=result.interrupted,
        pairs=pairs,
        candidates=result.statistics.get("candidates"),
    )
    if point is not None:
        answer.constraints = verify(build, query, point)
        if query.objective:
            answer.objective = point.quantities[query.objective.quantity]
    elif result.status == "INFEASIBLE":
        answer.explanations = explain_infeasible(build, query, solver, time_limit)
    return answer


def explain_infeasible(
    build: BuildDir, query: Query, solver: str, time_limit: float | None
) -> list[str]:
    """For each limit, the best value reachable when it alone is dropped.

    When no single limit can be relaxed to a solution (two or more bind together), the
    smallest pairs that can are reported instead, with the value each must reach.
    """
    limits = query.limits
    singles = [(x, _relaxed(build, query, solver, time_limit, [x])) for x in limits]
    if any(point is not None for _, point in singles) or len(limits) < 2:
        return [_single(x, point) for x, point in singles]
    out = []
    for first, second in itertools.combinations(limits, 2):
        point = _relaxed(build, query, solver, time_limit, [first, second])
        if point is not None:
            out.append(_pair(first, second, point))
    if not out:
        out.append("no configuration meets the constraints even with any two of them dropped")
    return [_single(x, None) for x in limits] + out


def _relaxed(
    build: BuildDir, query: Query, solver: str, time_limit, dropped: list[Limit]
) -> Point | None:
    """The best point for the first dropped limit's quantity, the others dropped too."""
    first = dropped[0]
    sense = "minimize" if first.op == "<=" else "maximize"
    relaxed = Query(
        tuple(x for x in query.limits if x not in dropped),
        Objective(first.quantity, sense, f"{sense} {first.quantity}"),
        query.inputs,
    )
    return run(build, relaxed, solver, time_limit)[1]


def _reached(limit: Limit, point: Point) -> str:
    """What a limit's quantity is at `point`, with its confidence margin if any."""
    value = point.quantities[limit.quantity]
    margin = ""
    if limit.confidence is not None:
        size = limit.margin(point.algorithm, point.hardware)
        margin = f" {'+' if limit.op == '<=' else '-'} margin {shown(size)}"
    return f"{shown(value)}{margin} {limit.unit}".rstrip()


def _best(limit: Limit, point: Point) -> str:
    """`least time`, `greatest value`: what relaxing the constraint looks for."""
    least = "least" if limit.op == "<=" else "greatest"
    return f"{least} {limit.quantity if limit.quantity in point.predicted else 'value'}"


def _single(limit: Limit, point: Point | None) -> str:
    head = f"{limit.text} cannot hold:"
    if point is None:
        return f"{head} the other constraints cannot all hold either, even without it"
    return (
        f"{head} the {_best(limit, point)} that meets the other constraints is"
        f" {_reached(limit, point)} ({point.label()})"
    )


def _pair(first: Limit, second: Limit, point: Point) -> str:
    other = second.text.split(f" {second.op} ")[0]  # the bounded side of the second one
    return (
        f"relax both {first.text} and {second.text}: with the other constraints, the"
        f" {_best(first, point)}"
        f" is {_reached(first, point)}, where {other} is"
        f" {_reached(second, point)} ({point.label()})"
    )
