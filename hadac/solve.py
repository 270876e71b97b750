"""`hadac solve`: run MiniZinc on a build, verify the answer, explain infeasibility.

The solver only picks a configuration. What hadac reports about it comes from the fitted
estimators' `predict`, never from the solver: the tables the solver saw must agree with
`predict` to 1e-6 relative, and every constraint must hold on the predicted values, or the
answer is an error naming the surrogate or constraint at fault.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field

from hadac import conformal, runtime
from hadac.builddir import BuildDir, Decoded
from hadac.errors import HadacError
from hadac.units import evaluate, from_json

FORMAT_VERSION = 1
TOLERANCE = 1e-6


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
        params = ", ".join(f"{k} = {_number(v)}" for k, v in self.params.items())
        where = f"{self.declared} in {self.location}" if self.location_chosen else self.hardware
        return f"{self.algorithm} on {where}" + (f", {params}" if params else "")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def evaluate_point(build: BuildDir, values: dict) -> Point:
    """Decode the solver's values, predict every target there, recompute goal and bounds."""
    decoded = build.decode(values)
    algorithm, hardware, params = decoded.algorithm, decoded.hardware, decoded.params
    predicted = {
        t["name"]: build.predict(algorithm, hardware, params, t["name"])
        for t in build.manifest["targets"]
    }
    values = {**build.hardware_attributes(hardware), **predicted}
    quantities = {
        e["quantity"]: float(evaluate(from_json(e["expr"]), values)) for e in build.goal_and_bounds
    }
    lets = {
        let["name"]: float(evaluate(from_json(let["expr"]), values))
        for let in build.manifest.get("lets", ())
    }
    entry = next(h for h in build.manifest["hardware"] if h["name"] == hardware)
    return Point(
        algorithm,
        hardware,
        params,
        predicted,
        quantities,
        decoded,
        lets,
        entry.get("declared"),
        entry.get("location"),
    )


def verify(build: BuildDir, point: Point) -> list[dict]:
    """Check the solver's values against `predict` and the constraints on predicted values.

    Returns one row per constraint (value, bound, holds); raises `HadacError` on any
    disagreement beyond the tolerance or any violated constraint.
    """
    problems = []
    for target, value in point.predicted.items():
        said = point.solver.targets[target]
        if not close(said, value):
            model = next(
                s["model"]
                for s in build.manifest["surrogates"]
                if (s["algorithm"], s["hardware"], s["target"])
                == (point.algorithm, point.hardware, target)
            )
            problems.append(
                f"surrogate '{target}' of {point.algorithm} on {point.hardware} ({model}):"
                f" the model gives {said!r} but predict gives {value!r}"
            )
    for entry in build.goal_and_bounds:
        said, value = (
            point.solver.quantities[entry["quantity"]],
            point.quantities[entry["quantity"]],
        )
        if not close(said, value):
            problems.append(
                f"line {entry['line']}: '{entry['text']}': the model gives {said!r}"
                f" but the predictions give {value!r}"
            )
    rows = []
    for entry in build.manifest["constraints"]:
        value = point.quantities[entry["quantity"]]
        margin = conformal.margin_for(entry, point.algorithm, point.hardware)
        holds = conformal.holds(entry, value, margin)
        row = {**_constraint_view(entry), "value": value, "holds": holds}
        if "confidence" in entry:
            row.update(confidence=entry["confidence"], margin=margin)
        rows.append(row)
        if not holds:
            with_margin = f" with margin {margin!r}" if "confidence" in entry else ""
            problems.append(
                f"line {entry['line']}: '{entry['text']}' is violated by the answer:"
                f" {value!r} {entry['unit']}{with_margin}"
            )
    if problems:
        raise HadacError("the solver's answer failed verification:\n  " + "\n  ".join(problems))
    return rows


def _constraint_view(entry: dict) -> dict:
    return {k: entry[k] for k in ("text", "line", "op", "bound", "unit")}


@dataclass
class Answer:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    solver: str
    where: str
    point: Point | None
    objective: float | None
    constraints: list[dict]
    timings: dict[str, float | None]
    units: dict[str, str]
    objective_text: str | None = None
    objective_unit: str | None = None
    explanations: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130  # as a shell reports a program stopped by Ctrl-C
        if self.point is not None:
            return 0
        return 2 if self.status == "INFEASIBLE" else 3

    def to_json(self) -> dict:
        p = self.point
        return {
            "format_version": FORMAT_VERSION,
            "status": self.status,
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
            "units": self.units,
            "constraints": self.constraints,
            "verified": p is not None,
            "solver": {"name": self.solver, "where": self.where},
            "timings": self.timings,
            "explanations": self.explanations,
            "interrupted": self.interrupted,
        }


def solve_build(
    build: BuildDir,
    solver: str,
    time_limit: float | None = None,
    compile_seconds: float | None = None,
) -> Answer:
    """Solve, verify, and on infeasibility explain each constraint."""
    if build.manifest["model"]["shape"] == "mip" and runtime.FAMILY[solver] == "CP":
        raise HadacError(
            f"{solver} is a CP solver and this model encodes the surrogates' structure with"
            " continuous variables, which CP solvers do not handle reliably; use cbc or highs"
            " (or give every param a finite domain, so that hadac enumerates)"
        )
    info = runtime.solver_info(solver)
    started = time.perf_counter()
    result = runtime.solve([build.model_path, build.data_path], solver, time_limit)
    wall = time.perf_counter() - started
    goal = build.manifest["objective"]
    units = {t["name"]: t["unit"] for t in build.manifest["targets"]}
    units.update({let["name"]: let["unit"] for let in build.manifest.get("lets", ())})
    answer = Answer(
        result.status,
        solver,
        info.where,
        None,
        None,
        [],
        {
            "compile": compile_seconds,
            "flatten": result.seconds("flatTime"),
            "solve": result.seconds("solveTime"),
            "wall": wall,
        },
        units,
        goal["text"] if goal else None,
        goal["unit"] if goal else None,
        interrupted=result.interrupted,
    )
    if result.values:
        point = evaluate_point(build, result.values)
        answer.constraints = verify(build, point)
        answer.point = point
        if goal:
            answer.objective = point.quantities[goal["quantity"]]
    elif result.status == "INFEASIBLE":
        answer.explanations = explain_infeasible(build, solver, time_limit)
    return answer


def explain_infeasible(build: BuildDir, solver: str, time_limit: float | None) -> list[str]:
    """For each constraint, the best value reachable when it alone is dropped.

    When no single constraint can be relaxed to a solution (two or more bind together), the
    smallest pairs that can are reported instead, with the value each must reach.
    """
    entries = build.manifest["constraints"]
    singles = [(entry, _relaxed(build, solver, time_limit, [entry])) for entry in entries]
    if any(point is not None for _, point in singles) or len(entries) < 2:
        return [_single(entry, point) for entry, point in singles]
    out = []
    for first, second in itertools.combinations(entries, 2):
        point = _relaxed(build, solver, time_limit, [first, second])
        if point is not None:
            out.append(_pair(first, second, point))
    if not out:
        out.append("no configuration meets the constraints even with any two of them dropped")
    return [_single(entry, None) for entry in entries] + out


def _relaxed(build: BuildDir, solver: str, time_limit, dropped: list[dict]) -> Point | None:
    """The best point for the first dropped constraint's quantity, the others dropped too."""
    model = build.model_path.read_text()
    for entry in dropped:
        model = model.replace(entry["mzn"], f"% dropped: {entry['mzn']}", 1)
    sense = "minimize" if dropped[0]["op"] == "<=" else "maximize"
    model = re.sub(r"^solve .*;$", f"solve {sense} {dropped[0]['var']};", model, flags=re.M)
    result = runtime.solve([build.data_path], solver, time_limit, model_text=model)
    return evaluate_point(build, result.values) if result.values else None


def _reached(entry: dict, point: Point) -> str:
    """What a constraint's quantity is at `point`, with its confidence margin if any."""
    value = point.quantities[entry["quantity"]]
    margin = ""
    if "confidence" in entry:
        size = conformal.margin_for(entry, point.algorithm, point.hardware)
        margin = f" {'+' if entry['op'] == '<=' else '-'} margin {size:.6g}"
    return f"{value:.6g}{margin} {entry['unit']}".rstrip()


def _best(entry: dict, point: Point) -> str:
    """`least time`, `greatest value`: what relaxing the constraint looks for."""
    least = "least" if entry["op"] == "<=" else "greatest"
    return f"{least} {entry['quantity'] if entry['quantity'] in point.predicted else 'value'}"


def _single(entry: dict, point: Point | None) -> str:
    head = f"{entry['text'].removeprefix('constraint ')} cannot hold:"
    if point is None:
        return f"{head} the other constraints cannot all hold either, even without it"
    return (
        f"{head} the {_best(entry, point)} that meets the other constraints is"
        f" {_reached(entry, point)} ({point.label()})"
    )


def _pair(first: dict, second: dict, point: Point) -> str:
    texts = [e["text"].removeprefix("constraint ") for e in (first, second)]
    other = texts[1].split(f" {second['op']} ")[0]  # the bounded side of the second one
    return (
        f"relax both {texts[0]} and {texts[1]}: with the other constraints, the"
        f" {_best(first, point)}"
        f" is {_reached(first, point)}, where {other} is"
        f" {_reached(second, point)} ({point.label()})"
    )
