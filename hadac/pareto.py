"""`hadac pareto`: the trade-off between two objectives, by epsilon-constraint solves.

The spec is compiled once, and every solve is a query to that one build: the spec's
constraints, `second <= epsilon` and an objective, as data. Each point is a lexicographic
optimum: the least first objective under the epsilon, then the least second objective at
that first value, so no point is dominated. The epsilon levels are first spread evenly between the
two extremes; the gaps between neighbours are then closed by asking for the best point
strictly below each one's second objective, which, when it is the next known point, proves
that nothing lies between. With enough `--points` the front is therefore complete: every
non-dominated value pair of the surrogates' predictions under the spec's constraints.
Every point is verified against the fitted models exactly as `hadac solve` verifies.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hadac import instance, runtime
from hadac.builddir import BuildDir
from hadac.errors import HadacError
from hadac.inputs import InputValue
from hadac.manifest import Manifest
from hadac.numbers import kept, plain
from hadac.query import Limit, Objective, Query
from hadac.solve import Point, close, run

TOLERANCE = instance.TOLERANCE  # how far past a MIP's optimum a tie may lie, relative


@dataclass(frozen=True)
class Axis:
    """One objective of the front: a target or a let of the build, minimized."""

    name: str
    unit: str
    line: int


def axes(manifest: Manifest, names: list[str]) -> tuple[Axis, Axis]:
    """The two objectives named on the command line, each a target or a let of the build."""
    if len(names) != 2 or len(set(names)) != 2:
        raise HadacError("--objectives takes two different names, e.g. emissions,time")
    known = {q.name: q for q in manifest.quantities if q.kind in ("target", "let")}
    out = []
    for name in names:
        if name not in known:
            lets = {x.name for x in manifest.lets}
            why = (
                f"let '{name}' is not affine in the targets on each hardware, which this MIP"
                " model cannot bound"
                if name in lets
                else "expected a target or let of the spec"
            )
            listed = ", ".join(known)
            raise HadacError(f"unknown objective '{name}': {why} ({listed})")
        out.append(Axis(name, known[name].unit, known[name].line))
    return out[0], out[1]


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

    def _repr_html_(self) -> str:
        """A notebook shows the front drawn and as a table (`hadac.notebook`)."""
        from hadac.notebook import front_html

        return front_html(self)

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
    """Asks one build for lexicographic minima under the spec's constraints and an epsilon."""

    def __init__(
        self,
        build: BuildDir,
        solver: str,
        time_limit: float | None,
        given: Sequence[InputValue] = (),
    ):
        manifest = build.manifest
        spec = Query.of_spec(manifest).with_inputs(manifest, list(given))
        self.spec = Query(spec.limits, inputs=spec.inputs)  # the spec's constraints
        self.build = build.at(spec.input_values())
        self.solver, self.time_limit = solver, time_limit
        self.solves = 0

    def _run(self, query: Query) -> tuple[Point | None, bool]:
        self.solves += 1
        result, point = run(self.build, query, self.solver, self.time_limit, self.spec)
        if result.interrupted:
            raise KeyboardInterrupt  # the sweep stops; `trace` keeps the points found so far
        if point is None:
            if result.status not in ("INFEASIBLE", "UNKNOWN"):
                raise HadacError(f"{self.solver} returned {result.status} without a solution")
            if result.status == "UNKNOWN":
                raise HadacError(f"{self.solver} found no solution within the time limit")
            return None, True
        return point, result.status == "OPTIMAL"

    def lexmin(self, first: str, second: str, below: float | None, strict: bool = False):
        """The least `first`, then the least `second` at that value, with `second` at most
        (or strictly below) `below`; None when no configuration qualifies."""
        limits = self.spec.limits
        if below is not None:
            text = f"{second} {'<' if strict else '<='} {below!r}"
            limits += (Limit(second, "<=", below, text, strict=strict),)
        if instance.combined_fits(self.build, first, second):  # one solve, ranks combined
            point, proven = self._run(
                Query(limits, Objective(first, "minimize", "", second), self.spec.inputs)
            )
            return None if point is None else (point, proven)
        point, proven = self._run(Query(limits, Objective(first, "minimize", ""), self.spec.inputs))
        if point is None:
            return None
        best = point.solver.quantities[first]
        if not self.build.enumerated:  # the MIP's optimum is within its tolerances
            best += TOLERANCE * max(abs(best), 1e-300)
        tie = Limit(first, "<=", best, f"{first} <= {best!r}")
        again, proven_again = self._run(
            Query((*limits, tie), Objective(second, "minimize", ""), self.spec.inputs)
        )
        return (again or point), proven and proven_again


def trace(
    build: BuildDir,
    first: Axis,
    second: Axis,
    solver: str,
    points: int,
    time_limit: float | None,
    given: Sequence[InputValue] = (),
) -> Front:
    """The front of two quantities of a build at the given instance inputs; Ctrl-C stops it
    with the points found so far."""
    if points < 2:
        raise HadacError("--points must be at least 2")
    engine = _Solver(build, solver, time_limit, given)
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
    goal, epsilon = front.first.name, front.second.name

    def add(found) -> FrontPoint | None:
        if found is None:
            return None
        point, proven = found
        entry = FrontPoint(point.quantities[goal], point.quantities[epsilon], point, proven)
        for known in front.points:
            if close(known.first, entry.first) and close(known.second, entry.second):
                return known
        front.points.append(entry)
        return entry

    def solver_value(p: FrontPoint) -> float:
        return p.point.solver.quantities[epsilon]

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
    params = ",".join(f"{k}={plain(v)}" for k, v in point.params.items())
    return f"{where}/{point.algorithm}" + (f"/{params}" if params else "")


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
                    kept(p.first),
                    kept(p.second),
                    point.declared or point.hardware,
                    point.location or "",
                    point.algorithm,
                    *(plain(point.params[k]) if k in point.params else "" for k in params),
                    *(kept(point.predicted[t]) for t in targets),
                    *(kept(point.lets[x]) for x in lets),
                    label(point),
                ]
            )


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


__all__ = ["Axis", "Front", "FrontPoint", "axes", "label", "trace", "write"]
