"""`hadac pareto`: the trade-off between two objectives, by epsilon-constraint solves.

The spec is compiled once, with the first objective as its goal and one more constraint,
`second <= epsilon`, whose bound each solve rewrites in a variant of the model text (as
`solve.explain_infeasible` drops constraints). Each point is a lexicographic optimum: the
least first objective under the epsilon, then the least second objective at that first
value, so no point is dominated. The epsilon levels are first spread evenly between the
two extremes; the gaps between neighbours are then closed by asking for the best point
strictly below each one's second objective, which, when it is the next known point, proves
that nothing lies between. With enough `--points` the front is therefore complete: every
non-dominated value pair of the surrogates' predictions under the spec's constraints.
Every point is verified against the fitted models exactly as `hadac solve` verifies.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hadac import runtime
from hadac.builddir import BuildDir
from hadac.encode import names
from hadac.errors import HadacError
from hadac.problem import Bound, Goal, Problem
from hadac.solve import Point, close, evaluate_point, verify
from hadac.units import Lowered, Var

OPEN = 1e300  # the epsilon bound as compiled: no limit until a solve sets one
TOLERANCE = 1e-9  # how far below a value a MIP's "strictly less" asks for, relative


@dataclass(frozen=True)
class Axis:
    """One objective of the front: a target or a let, minimized."""

    name: str
    expr: Lowered
    unit: str
    line: int


def axes(problem: Problem, names: list[str]) -> tuple[Axis, Axis]:
    """The two objectives named on the command line, each a target or a let of the spec."""
    if len(names) != 2 or len(set(names)) != 2:
        raise HadacError("--objectives takes two different names, e.g. emissions,time")
    out = []
    for name in names:
        target = next((t for t in problem.targets if t.name == name), None)
        let = next((x for x in problem.lets if x.name == name), None)
        if target is not None:
            out.append(Axis(name, Var(name), target.unit_text, target.line))
        elif let is not None:
            out.append(Axis(name, let.expr, let.unit_text, let.line))
        else:
            known = [t.name for t in problem.targets] + [x.name for x in problem.lets]
            raise HadacError(
                f"unknown objective '{name}': expected a target or let of the spec"
                f" ({', '.join(known)})"
            )
    return out[0], out[1]


def adapt(problem: Problem, first: Axis, second: Axis) -> Problem:
    """The problem whose model the front is computed on: goal `minimize first`, and the
    spec's constraints plus `second <= epsilon` (open until a solve sets it)."""
    unit_of = {**problem.attribute_units, **{x.name: x.unit for x in problem.lets}}
    goal = Goal(
        "minimize", first.expr, unit_of.get(first.name), f"minimize {first.name}", first.line
    )
    epsilon = Bound(
        second.expr, "<=", OPEN, unit_of.get(second.name), f"{second.name} <= epsilon", second.line
    )
    return dataclasses.replace(problem, goal=goal, bounds=[*problem.bounds, epsilon])


@dataclass
class FrontPoint:
    """A verified point of the front and its two objective values (from `predict`)."""

    first: float
    second: float
    point: Point
    proven: bool  # both solves optimal: the point is non-dominated


@dataclass
class Front:
    first: Axis
    second: Axis
    points: list[FrontPoint] = field(default_factory=list)
    complete: bool = False  # every non-dominated value pair is in `points`
    solves: int = 0
    seconds: float = 0.0
    solver: str = ""
    where: str = ""
    interrupted: bool = False  # Ctrl-C stopped the sweep: `points` is what it had found

    def sorted(self) -> list[FrontPoint]:
        return sorted(self.points, key=lambda p: (p.first, p.second))

    def to_json(self) -> dict:
        return {
            "objectives": [{"name": a.name, "unit": a.unit} for a in (self.first, self.second)],
            "complete": self.complete,
            "interrupted": self.interrupted,
            "solves": self.solves,
            "seconds": self.seconds,
            "solver": {"name": self.solver, "where": self.where},
            "points": [
                {
                    self.first.name: p.first,
                    self.second.name: p.second,
                    "hardware": p.point.declared or p.point.hardware,
                    "location": p.point.location,
                    "algorithm": p.point.algorithm,
                    "params": p.point.params,
                    "predicted": p.point.predicted,
                    "lets": p.point.lets,
                    "verified": True,
                    "proven": p.proven,
                }
                for p in self.sorted()
            ],
        }


class _Solver:
    """Solves variants of one compiled model: lexicographic minima under an epsilon."""

    def __init__(self, build: BuildDir, solver: str, time_limit: float | None):
        self.build, self.solver, self.time_limit = build, solver, time_limit
        self.enumerated = build.manifest["model"]["shape"] == "enumerated"
        self.text = build.model_path.read_text()
        manifest = build.manifest
        self.goal = manifest["objective"]
        self.epsilon = manifest["constraints"][-1]
        self.solves = 0
        # The model without its epsilon constraint and solve item: each variant adds its own.
        lines = self.text.split("\n")
        index = max(i for i, line in enumerate(lines) if line == self.epsilon["mzn"])
        lines[index] = "% epsilon: set per solve below"
        self.base = re.sub(r"^solve .*;$", "", "\n".join(lines), flags=re.M)

    def _at_most(self, entry: dict, value: float, strict: bool) -> str | None:
        """A constraint `quantity <= value` (or `<`), None when nothing can meet it."""
        if self.enumerated:
            distinct = np.unique(np.asarray(self.build.data[names.value_array(entry["quantity"])]))
            rank = int(np.searchsorted(distinct, value, side="left" if strict else "right"))
            return None if rank == 0 else f"constraint {entry['var']} <= {rank};"
        step = TOLERANCE * max(abs(value), 1e-300)
        limit = value - step if strict else value + step
        return f"constraint {entry['var']} <= {limit!r};"

    def _minimize(self, entry: dict) -> str:
        """The solve item; a MIP objective is scaled to about 1, as compile scales its own
        goal, so that the solver's absolute tolerances do not swamp small values."""
        if self.enumerated:
            return f"solve minimize {entry['var']};"
        found = re.search(rf"^var (\S+)\.\.(\S+): {re.escape(entry['var'])} ", self.text, re.M)
        magnitude = max(abs(float(found[1])), abs(float(found[2]))) if found else 0.0
        scale = 10.0 ** -math.floor(math.log10(magnitude)) if magnitude > 0 else 1.0
        return f"solve minimize {scale!r} * {entry['var']};"

    def _run(
        self, extra: list[str], goal: dict, solve_item: str | None = None
    ) -> tuple[Point | None, bool]:
        solve_item = solve_item or self._minimize(goal)
        variant = self.base + "\n" + "\n".join([*extra, solve_item]) + "\n"
        self.solves += 1
        result = runtime.solve(
            [self.build.data_path], self.solver, self.time_limit, model_text=variant
        )
        if result.interrupted:
            raise KeyboardInterrupt  # the sweep stops; `trace` keeps the points found so far
        if not result.values:
            if result.status not in ("INFEASIBLE", "UNKNOWN"):
                raise HadacError(f"{self.solver} returned {result.status} without a solution")
            if result.status == "UNKNOWN":
                raise HadacError(f"{self.solver} found no solution within the time limit")
            return None, True
        point = evaluate_point(self.build, result.values)
        verify(self.build, point)
        return point, result.status == "OPTIMAL"

    def lexmin(self, first: dict, second: dict, below: float | None, strict: bool = False):
        """The least `first`, then the least `second` at that value, with `second` at most
        (or strictly below) `below`; None when no configuration qualifies."""
        extra = []
        if below is not None:
            limit = self._at_most(second, below, strict)
            if limit is None:
                return None
            extra.append(limit)
        combined = self._combined(first, second)
        if combined is not None:  # one solve: both ranks in one integer objective
            point, proven = self._run(extra, first, combined)
            return None if point is None else (point, proven)
        point, proven = self._run(extra, first)
        if point is None:
            return None
        best = point.solver.quantities[first["quantity"]]
        tie = self._at_most(first, best, strict=False)
        again, proven_again = self._run([*extra, tie], second)
        return (again or point), proven and proven_again

    def _combined(self, first: dict, second: dict) -> str | None:
        """In the enumerated model, `rank1 * (D2 + 1) + rank2` orders configurations by the
        first objective, then the second, when it fits the 32-bit integers of CP solvers."""
        if not self.enumerated:
            return None
        d1 = int(max(self.build.data[names.rank_array(first["quantity"])]))
        d2 = int(max(self.build.data[names.rank_array(second["quantity"])]))
        if d1 * (d2 + 1) + d2 >= 2**31 - 1:
            return None
        return f"solve minimize {first['var']} * {d2 + 1} + {second['var']};"


def compute(
    spec: Path,
    objectives: list[str],
    points: int = 10,
    solver: str | None = None,
    time_limit: float | None = None,
    location: str | None = None,
    directory: Path | None = None,
) -> tuple[Front, list, Path]:
    """Compile SPEC once for the two objectives (into `directory`/build, by default
    `build/<spec>-pareto/build`) and trace their front; returns the front, the compile's
    warnings and the directory."""
    from hadac.checks import load
    from hadac.compiler import compile_problem

    started = time.perf_counter()
    problem, reporter = load(spec, location)
    first, second = axes(problem, objectives)
    adapted = adapt(problem, first, second)
    suffix = f"@{location}" if location else ""
    directory = directory or Path("build") / f"{problem.name}{suffix}-pareto"
    compiled = compile_problem(adapted, reporter, directory / "build")
    solver = solver or problem.solver or "cbc"
    if compiled.manifest["model"]["shape"] == "mip" and runtime.FAMILY[solver] == "CP":
        raise HadacError(
            f"{solver} is a CP solver and this spec compiles to a MIP model; use cbc or highs"
        )
    front = trace(BuildDir(compiled.directory), first, second, solver, points, time_limit)
    front.seconds = time.perf_counter() - started
    return front, compiled.warnings, directory


def trace(
    build: BuildDir, first: Axis, second: Axis, solver: str, points: int, time_limit: float | None
) -> Front:
    """The front on a build made by `adapt`; Ctrl-C stops it with the points found so far."""
    if points < 2:
        raise HadacError("--points must be at least 2")
    engine = _Solver(build, solver, time_limit)
    info = runtime.solver_info(solver)
    front = Front(first, second, solver=solver, where=info.where)
    try:
        _sweep(front, engine, points)
    except KeyboardInterrupt:
        front.interrupted, front.complete = True, False
    front.solves = engine.solves
    return front


def _sweep(front: Front, engine: _Solver, points: int) -> None:
    """Extremes, evenly spread epsilons, then gaps, adding each new point to `front`."""
    goal, epsilon = engine.goal, engine.epsilon

    def add(found) -> FrontPoint | None:
        if found is None:
            return None
        point, proven = found
        entry = FrontPoint(
            point.quantities[goal["quantity"]], point.quantities[epsilon["quantity"]], point, proven
        )
        for known in front.points:
            if close(known.first, entry.first) and close(known.second, entry.second):
                return known
        front.points.append(entry)
        return entry

    def solver_value(p: FrontPoint) -> float:
        return p.point.solver.quantities[epsilon["quantity"]]

    low_first = add(engine.lexmin(goal, epsilon, None))
    if low_first is None:
        front.complete = True
        return  # no configuration meets the spec's constraints
    low_second = add(engine.lexmin(epsilon, goal, None))
    top, bottom = low_first.second, low_second.second
    current = top  # the second objective of the last point found, walking down
    for level in np.linspace(bottom, top, points)[1:-1][::-1]:
        if len(front.points) >= points:
            break
        if level >= current:
            continue  # the last point found meets this level too, so it is the answer again
        found = add(engine.lexmin(goal, epsilon, float(level)))
        if found is None:
            break
        current = found.second
    closed: set[tuple[int, int]] = set()
    front.complete = False
    while len(front.points) <= points:
        ordered = sorted(front.points, key=lambda p: -p.second)
        gap = next(
            (
                (a, b)
                for a, b in zip(ordered, ordered[1:], strict=False)
                if (id(a), id(b)) not in closed
            ),
            None,
        )
        if gap is None:
            front.complete = all(p.proven for p in front.points)
            break
        if len(front.points) == points:
            break
        upper, lower = gap
        found = add(engine.lexmin(goal, epsilon, solver_value(upper), strict=True))
        if found is None or found is lower or found.second >= upper.second:
            closed.add((id(upper), id(lower)))
        else:
            closed.add((id(upper), id(found)))


def label(point: Point) -> str:
    """`hardware/algorithm/params`, the location after an @ when it was chosen."""
    where = f"{point.declared}@{point.location}" if point.location_chosen else point.hardware
    params = ",".join(f"{k}={_number(v)}" for k, v in point.params.items())
    return f"{where}/{point.algorithm}" + (f"/{params}" if params else "")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def write_csv(front: Front, path: Path) -> None:
    """One row per point, sorted by the first objective: objectives, choice, predictions."""
    rows = front.sorted()
    targets = list(rows[0].point.predicted) if rows else []
    lets = list(rows[0].point.lets) if rows else []
    params = sorted({k for p in rows for k in p.point.params})
    head = [
        f"{front.first.name} ({front.first.unit})" if front.first.unit else front.first.name,
        f"{front.second.name} ({front.second.unit})" if front.second.unit else front.second.name,
        "hardware",
        "location",
        "algorithm",
        *params,
        *(f"predicted {t}" for t in targets),
        *(f"let {x}" for x in lets),
        "label",
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(head)
        for p in rows:
            point = p.point
            writer.writerow(
                [
                    _figure(p.first),
                    _figure(p.second),
                    point.declared or point.hardware,
                    point.location or "",
                    point.algorithm,
                    *(_number(point.params[k]) if k in point.params else "" for k in params),
                    *(_figure(point.predicted[t]) for t in targets),
                    *(_figure(point.lets[x]) for x in lets),
                    label(point),
                ]
            )


def _figure(value: float) -> str:
    """12 significant digits: every digit a measurement can carry, none of the binary noise
    that arithmetic on floats adds (24.0034, not 24.003400000000003)."""
    return f"{value:.12g}"


def plot(front: Front, path: Path, title: str | None = None) -> None:
    """The front as a PNG: the points, the staircase between them, each point labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = front.sorted()
    fig, (ax, side) = plt.subplots(
        1, 2, figsize=(10.5, 5.5), dpi=110, width_ratios=(2.4, 1.0), layout="constrained"
    )
    xs = [p.first for p in rows]
    ys = [p.second for p in rows]
    if rows:
        ax.step(xs, ys, where="post", color="#9aa7b8", linewidth=1.0, zorder=1)
        ax.scatter(xs, ys, s=36, color="#1f6f8b", zorder=2)
    # Each point carries its number, as in the table `hadac pareto` prints and the CSV's
    # order; the labels, too long to sit beside close points, are listed at the side.
    for i, p in enumerate(rows, start=1):
        ax.annotate(
            str(i),
            (p.first, p.second),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
            color="#24313f",
        )
    side.axis("off")
    listing = "\n".join(f"{i:>3}  {label(p.point)}" for i, p in enumerate(rows, start=1))
    side.text(0.0, 1.0, listing, va="top", ha="left", family="monospace", fontsize=7)
    ax.set_xlabel(_axis_label(front.first))
    ax.set_ylabel(_axis_label(front.second))
    status = "complete" if front.complete else "partial"
    ax.set_title(title or f"Pareto front: {front.first.name} vs {front.second.name} ({status})")
    ax.grid(True, color="#e3e7ec", linewidth=0.6)
    ax.margins(x=0.08, y=0.1)
    fig.savefig(path, format="png")
    plt.close(fig)


def _axis_label(axis: Axis) -> str:
    return f"{axis.name} [{axis.unit}]" if axis.unit else axis.name


def write(front: Front, directory: Path) -> tuple[Path, Path]:
    """front.csv and front.png in `directory`."""
    csv_path, png_path = directory / "front.csv", directory / "front.png"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_csv(front, csv_path)
        plot(front, png_path)
    except OSError as err:
        raise HadacError(f"cannot write the front to {directory}: {err.strerror or err}") from None
    return csv_path, png_path


__all__ = ["Axis", "Front", "FrontPoint", "adapt", "axes", "compute", "label", "trace", "write"]
