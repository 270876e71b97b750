"""Running MiniZinc: which drivers and solvers this machine has, and one solve.

Two MiniZinc drivers may be present. The native one (a Debian package, or the COIN-BC
enabled build that `scripts/install-minizinc.sh` makes) is preferred: it is 10 to 30 times
faster on our models. The bundled one is the WebAssembly MiniZinc of the npm package
`minizinc`, run under Node by a small launcher; it carries every solver (Gecode, COIN-BC,
HiGHS, Chuffed) and stands in for whatever the native one lacks.

`HADAC_MINIZINC=native|bundled` restricts hadac to one driver; `HADAC_HOME` (default
/opt/hadac) is where the installer put them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import hadac.solvers as solver_table
from hadac.errors import HadacError

if TYPE_CHECKING:
    import minizinc


def hadac_home() -> Path:
    return Path(os.environ.get("HADAC_HOME", "/opt/hadac"))


def _driver_paths() -> tuple[tuple[str, Path], ...]:
    """Candidate (where, executable) pairs, native first, filtered by HADAC_MINIZINC."""
    only = os.environ.get("HADAC_MINIZINC", "").strip().lower()
    return _drivers(only, hadac_home(), os.environ.get("PATH", ""))


@cache
def _drivers(only: str, home: Path, path: str) -> tuple[tuple[str, Path], ...]:
    """The drivers found for these settings, looked for once per process: a server asks
    at every solve, and the search costs about 0.4 ms."""
    found = []
    if only in ("", "native"):
        built = home / "minizinc-native" / "bin" / "minizinc"
        on_path = shutil.which("minizinc", path=path)
        for candidate in (built, Path(on_path) if on_path else None):
            if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
                found.append(("native", candidate))
    if only in ("", "bundled"):
        bundled = home / "bundled" / "bin" / "minizinc"
        if bundled.is_file():
            found.append(("bundled", bundled))
    return tuple(found)


def default_jobs() -> int:
    """The machine's cores this process may use: how many solves run at once by default."""
    return max(1, len(os.sched_getaffinity(0)))


@dataclass(frozen=True)
class SolverInfo:
    """One of hadac's solvers on this machine: where it runs, or why it does not."""

    name: str
    version: str | None = None
    where: str | None = None  # "native" or "bundled"
    reason: str | None = None
    driver: Path | None = None
    solver_id: str | None = None
    executable: Path | None = None  # its FlatZinc executable, when MiniZinc names one

    @property
    def available(self) -> bool:
        return self.where is not None

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "available": self.available,
            "version": self.version,
            "where": self.where,
            "driver": str(self.driver) if self.driver else None,
            "reason": self.reason,
        }


@cache
def _driver(path: Path) -> minizinc.Driver:
    """One driver of the `minizinc` package per executable, made when a solve needs it (the
    package asks MiniZinc for its version on import and again here)."""
    import minizinc

    return minizinc.Driver(path)


@cache
def _listed(path: Path) -> dict[str, tuple[str, str, Path | None]]:
    """The solvers of the driver at `path` by hadac name: id, version and FlatZinc
    executable, keeping only those with a known version. MiniZinc is asked once per driver
    (`--solvers-json`), not once per solver id: each question to the bundled launcher costs
    about 0.1 s."""
    done = subprocess.run([str(path), "--solvers-json"], capture_output=True, text=True)
    done.check_returncode()
    configs = json.loads(done.stdout)
    out = {}
    for known in solver_table.SOLVERS:
        for solver_id in known.ids:
            config = next((c for c in configs if solver_id in (c["id"], *c.get("tags", ()))), {})
            version, executable = config.get("version"), config.get("executable")
            if version and "unknown" not in version:
                out[known.name] = (config["id"], version, Path(executable) if executable else None)
                break
    return out


def find(name: str) -> SolverInfo:
    """Solver `name` on the first driver that has it, native first; the drivers after that
    one are not started (the bundled one costs about 0.4 s to ask)."""
    paths = _driver_paths()
    for where, path in paths:
        try:
            listed = _listed(path)
        except Exception:  # a broken installation is reported, not raised
            continue
        if name in listed:
            solver_id, version, executable = listed[name]
            return SolverInfo(name, version, where, None, path, solver_id, executable)
    tried = ", ".join(f"{w} ({p})" for w, p in paths) or "no MiniZinc found"
    return SolverInfo(name, reason=f"not offered by: {tried}; run scripts/install-minizinc.sh")


@cache
def solvers() -> tuple[SolverInfo, ...]:
    """Each of hadac's solvers (hadac.solvers): the first driver that has it, native first."""
    return tuple(find(name) for name in solver_table.names())


def backend(info: SolverInfo) -> minizinc.Solver:
    """The `minizinc` package's solver of an available hadac solver, on its driver."""
    import minizinc

    return minizinc.Solver.lookup(info.solver_id, driver=_driver(info.driver))


def solver_info(name: str) -> SolverInfo:
    solver_table.get(name)  # an unknown name is an error that lists the known ones
    info = find(name)
    if not info.available:
        raise HadacError(f"solver '{name}' is not available: {info.reason}")
    return info


@dataclass
class SolveResult:
    """What MiniZinc said: a status, the last solution's values, and its statistics."""

    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    values: dict = field(default_factory=dict)
    statistics: dict = field(default_factory=dict)
    interrupted: bool = False

    def seconds(self, key: str) -> float | None:
        value = self.statistics.get(key)
        if isinstance(value, timedelta):
            return value.total_seconds()
        return float(value) if isinstance(value, (int, float)) else None


@dataclass
class Run:
    """What one run of a solver printed: its solutions in order, its status (OPTIMAL: the
    best proven, or every solution listed), its statistics."""

    status: str
    solutions: list[dict] = field(default_factory=list)
    statistics: dict = field(default_factory=dict)
    interrupted: bool = False

    @property
    def values(self) -> dict:
        """The last solution (the best of an optimisation)."""
        return self.solutions[-1] if self.solutions else {}


async def _bounded(solving, time_limit: float | None) -> None:
    """Await `solving`, cancelling it (which terminates the solver) well past the time limit.

    MiniZinc passes the limit on to the solver, but a MIP solver deep in its root node can
    overrun it by minutes; the limit is the user's, so it is kept here too.
    """
    import asyncio

    if time_limit is None:
        await solving
    else:
        await asyncio.wait_for(solving, timeout=time_limit * 1.1 + 5.0)


def communicate(command: list[str], time_limit: float | None) -> tuple[str, str, int, bool]:
    """Run a solver's command to its end, killing it well past the time limit (as
    `_bounded` does) or at Ctrl-C: its output, error output, exit status, and whether
    Ctrl-C stopped it."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    interrupted = False
    try:
        out, err = process.communicate(
            timeout=None if time_limit is None else time_limit * 1.1 + 5.0
        )
    except KeyboardInterrupt:
        interrupted = True
        process.kill()
        out, err = process.communicate()
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return out, err, process.returncode, interrupted


def command_line(
    info: SolverInfo,
    files: list[Path],
    time_limit: float | None,
    flags: dict[str, str] | None = None,
    listing: int = 0,
    intermediate: bool = False,
) -> Run:
    """One run of MiniZinc's command line: its solutions in order (the last the best of an
    optimisation); with `listing`, up to that many solutions of a satisfaction model;
    with `intermediate`, every improving solution of an optimisation as it is found, so
    that a run stopped early still has the best found. `flags` go to MiniZinc as
    `--name value`.

    The command line rather than the `minizinc` package, where the data is large: the
    package first asks MiniZinc for the model's interface, which reads the whole data once
    more (a quarter of a second for the 400 trees of a forest of 100 on two pairs, over a
    second for the 12 MB of a 3-param transprecision-shaped study).
    """
    command = [str(info.driver), "--solver", info.solver_id, "--output-mode", "json", "-s"]
    if listing:
        command += ["-a", "-n", str(listing)]
    if intermediate:
        command.append("-i")
    if time_limit is not None:
        command += ["--time-limit", str(max(1, round(time_limit * 1000)))]
    for name, value in (flags or {}).items():
        command += [f"--{name}", value]
    run = Run("UNKNOWN")
    out, err, returncode, run.interrupted = communicate([*command, *map(str, files)], time_limit)
    text: list[str] = []
    for line in out.splitlines():
        if line == "----------":
            run.solutions.append(json.loads("".join(text)))
            run.status, text = "FEASIBLE", []
        elif line == "==========":
            run.status = "OPTIMAL"
        elif line == "=====UNSATISFIABLE=====":
            run.status = "INFEASIBLE"
        elif line.startswith("%%%mzn-stat: "):
            key, _, value = line.removeprefix("%%%mzn-stat: ").partition("=")
            if key in ("flatTime", "solveTime"):
                run.statistics[key] = float(value)  # the last: a solver may repeat its own
        elif not line.startswith("%"):
            text.append(line)
    if "=====ERROR=====" in out or (returncode != 0 and not run.interrupted):
        if run.status == "UNKNOWN":
            message = err.strip() or f"exit status {returncode}"
            raise HadacError(f"MiniZinc ({info.name}, {info.where}) failed: {message}")
    return run


def solve(
    files: list[Path],
    solver: str,
    time_limit: float | None = None,
    model_text: str | None = None,
    on_solution: Callable[[dict], None] | None = None,
    flags: dict[str, str] | None = None,
) -> SolveResult:
    """Solve a model (its files, or `model_text` plus data files) with one of hadac's solvers.

    Intermediate solutions are kept as they stream in (and passed to `on_solution`), so a
    time limit or Ctrl-C still yields the best solution found, reported as FEASIBLE. The
    solver process is terminated when the solve is cancelled. `flags` go to MiniZinc as
    `--name value`.
    """
    import asyncio

    import minizinc

    statuses = {
        minizinc.Status.OPTIMAL_SOLUTION: "OPTIMAL",
        minizinc.Status.ALL_SOLUTIONS: "OPTIMAL",
        minizinc.Status.SATISFIED: "FEASIBLE",
        minizinc.Status.UNSATISFIABLE: "INFEASIBLE",
        minizinc.Status.UNKNOWN: "UNKNOWN",
    }
    info = solver_info(solver)
    driver = _driver(info.driver)
    model = minizinc.Model()
    for path in files:
        model.add_file(path, parse_data=False)
    if model_text is not None:
        model.add_string(model_text)
    chosen = backend(info)
    best = SolveResult("UNKNOWN")

    async def run() -> None:
        limit = timedelta(seconds=time_limit) if time_limit else None
        async for result in instance.solutions(
            time_limit=limit, intermediate_solutions=True, **(flags or {})
        ):
            best.statistics.update(result.statistics)
            if result.solution is not None:
                best.values = dict(vars(result.solution))
                best.status = "FEASIBLE"
                if on_solution is not None:
                    on_solution(best.values)
            if result.status in statuses and result.status != minizinc.Status.SATISFIED:
                if result.status != minizinc.Status.UNKNOWN or not best.values:
                    best.status = statuses[result.status]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. Debian's Gecode library notice
        try:
            # MiniZinc reads the model here already: its errors are the solve's errors.
            instance = minizinc.Instance(chosen, model, driver=driver)
            asyncio.run(_bounded(run(), time_limit))
        except TimeoutError:
            best.status = "FEASIBLE" if best.values else "UNKNOWN"
        except KeyboardInterrupt:
            best.interrupted = True
            best.status = "FEASIBLE" if best.values else "UNKNOWN"
        except minizinc.MiniZincError as err:
            raise HadacError(f"MiniZinc ({solver}, {info.where}) failed: {err}") from None
    best.values.pop("_checker", None)
    best.values.pop("_output_item", None)
    return best
