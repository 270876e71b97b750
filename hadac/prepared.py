"""Queries answered without flattening a build's model again: an enumerated build's, and
the CP model of a MIP build (flattened at compile time, `hadac.cpsolve.prepare`).

A query is the data of a solve: which bounds are on, each pair's rank bound, the
objective's weights (`hadac.instance`). The enumerated model declares those as variables
that the data fixes, so MiniZinc can flatten the model once with the build's fixed data
alone, leaving them free. Each query then fixes them by equality constraints added to that
FlatZinc, and the solver's FlatZinc executable runs it directly: a what-if costs the
solver's start (about 10 ms for Gecode) instead of MiniZinc's flattening (about 50 ms more
on `specs/tiny.hada`). The FlatZinc differs from the one a full flatten gives only by those
equalities, so the solver searches the same model.

This is for CP solvers that MiniZinc runs as a native FlatZinc executable (Gecode), on
enumerated builds without instance inputs (whose ranks are each solve's data, not fixed),
here flattened once per process; every other solve goes through MiniZinc
(`hadac.runtime.solve`). `HADAC_PREPARED=0` turns both off.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import hadac.solvers as solver_table
from hadac import runtime
from hadac.builddir import BuildDir
from hadac.errors import HadacError

INT_LIMIT = 2**31 - 1  # Gecode's integers: the free objective's bounds must stay below

_SCALAR = re.compile(r"^var [^:]*: (\w+)\s*::.*\boutput_var\b")
_ARRAY = re.compile(
    r"^array \[[^\]]*\] of var [^:]*: (\w+)\s*::\s*output_array\([^)]*\)[^=]*= \[(.*)\];$"
)
_ASSIGNED = re.compile(r"^(\w+) = (.*);$")
_LIST = re.compile(r"^array\dd\(.*\[(.*)\]\)$")
_STATISTIC = re.compile(r"^%%%mzn-stat: (\w+)=(.*)$")


@dataclass(frozen=True)
class Prepared:
    """A build's model flattened once for one solver, with the query's variables free."""

    head: str  # the FlatZinc up to its solve item
    tail: str  # the solve item and what follows it
    query: dict[str, tuple[str, ...]]  # each query datum: its FlatZinc variables
    executable: Path
    seconds: float = 0.0  # what flattening took

    @classmethod
    def of(
        cls, text: str, query: dict[str, tuple[str, ...]], executable: Path, seconds: float = 0.0
    ) -> Prepared:
        """The prepared form of a FlatZinc text whose query variables are `query`."""
        at = text.rindex("\nsolve ") + 1
        return cls(text[:at], text[at:], query, executable, seconds)

    def fixed(self, data: dict[str, object]) -> str:
        """The FlatZinc of one query: the prepared one with every query variable fixed."""
        missing = sorted(set(self.query) - set(data))
        if missing:
            raise HadacError(f"the query data lacks {', '.join(missing)}")
        fixes = []
        for name, variables in self.query.items():
            for variable, v in zip(variables, _flat(data[name]), strict=True):
                if isinstance(v, bool):
                    fixes.append(f"constraint bool_eq({variable},{str(v).lower()});\n")
                else:
                    fixes.append(f"constraint int_eq({variable},{int(v)});\n")
        return self.head + "".join(fixes) + self.tail


def _flat(value: object) -> list:
    """A datum's values in FlatZinc's order: a table row by row."""
    if isinstance(value, list):
        return [x for item in value for x in _flat(item)]
    return [value]


def flatzinc_solver(solver: str) -> tuple[runtime.SolverInfo, Path] | None:
    """The solver's info and native FlatZinc executable, when it has one; None otherwise."""
    if solver_table.family(solver) != "CP":
        return None
    info = runtime.solver_info(solver)
    if info.where != "native":
        return None
    executable = info.executable
    if executable is None or not executable.is_file() or not os.access(executable, os.X_OK):
        return None
    return info, executable


_cache: dict[tuple, Prepared | None] = {}
_cache_lock = threading.Lock()


def prepare(build: BuildDir, solver: str, query_names: list[str]) -> tuple[Prepared | None, bool]:
    """The prepared FlatZinc of `build` for `solver`, and whether this call flattened it
    (the first for the build's files as they are now: a changed model or data is flattened
    again); None when the solve must go through MiniZinc: another solver or shape, instance
    inputs, `HADAC_PREPARED=0`, or a free objective beyond the solver's integers."""
    if not enabled() or not build.enumerated or build.manifest.inputs:
        return None, False
    found = flatzinc_solver(solver)
    if found is None:
        return None, False
    files = (build.model_path, build.data_path)
    key = (solver, *((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    with _cache_lock:
        fresh = key not in _cache
        if fresh:
            _cache[key] = _flatten(build, *found, query_names)
        return _cache[key], fresh


def enabled() -> bool:
    """Whether solves may use prepared FlatZinc (`HADAC_PREPARED=0` turns it off)."""
    return os.environ.get("HADAC_PREPARED", "1") != "0"


def _flatten(
    build: BuildDir, info: runtime.SolverInfo, executable: Path, query_names: list[str]
) -> Prepared | None:
    if _objective_bound(build) >= INT_LIMIT:
        return None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hadac-prepare-") as folder:
        fzn = Path(folder) / "model.fzn"
        flatten(info, [build.model_path, build.data_path], fzn)
        text = fzn.read_text()
    seconds = time.perf_counter() - started
    query = query_variables(text, query_names)
    return None if query is None else Prepared.of(text, query, executable, seconds)


def flatten(info: runtime.SolverInfo, files: list[Path], fzn: Path) -> None:
    """Flatten a model's files for the solver of `info` into the FlatZinc file `fzn`."""
    with tempfile.TemporaryDirectory(prefix="hadac-prepare-") as folder:
        command = [str(info.driver), "--solver", info.solver_id, "-c", *map(str, files)]
        command += ["--fzn", str(fzn), "--ozn", str(Path(folder) / "model.ozn")]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HadacError(f"MiniZinc ({info.name}, native) failed: {done.stderr.strip()}")


def query_variables(text: str, names: list[str]) -> dict[str, tuple[str, ...]] | None:
    """Each query datum's FlatZinc variables (it is an output variable or array of the
    model), in `names` order; None when MiniZinc folded one away."""
    query: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line.startswith(("var ", "array ")):
            continue
        if m := _SCALAR.match(line):
            query[m[1]] = (m[1],)
        elif m := _ARRAY.match(line.strip()):
            query[m[1]] = tuple(part.strip() for part in m[2].split(","))
    if not set(names) <= set(query):
        return None
    return {name: query[name] for name in names}


def _objective_bound(build: BuildDir) -> int:
    """The largest magnitude the objective can take while its weights are free: each
    quantity's ranks times the largest weight (the model's WEIGHT_MAX)."""
    counts = [len(build.distinct(q.name)) for q in build.manifest.quantities]
    return sum(counts) * (max(counts) + 1)


def solve(
    prepared: Prepared, data: dict[str, object], time_limit: float | None
) -> runtime.SolveResult:
    """One query on a prepared FlatZinc: the last solution's int variables (the
    FlatZinc's output variables), its status and the solver's statistics, as
    `runtime.solve` gives them."""
    run = solutions(prepared, data, time_limit)
    values = {k: v for k, v in run.values.items() if type(v) is int}
    return runtime.SolveResult(run.status, values, run.statistics, run.interrupted)


def solutions(
    prepared: Prepared, data: dict[str, object], time_limit: float | None, listing: int = 0
) -> runtime.Run:
    """One query on a prepared FlatZinc: every solution it printed (each improving one of
    an optimisation, or with `listing` up to that many of a satisfaction model), its status
    and the solver's statistics."""
    run = runtime.Run("UNKNOWN")
    with tempfile.TemporaryDirectory(prefix="hadac-query-") as folder:
        path = Path(folder) / "query.fzn"
        path.write_text(prepared.fixed(data))
        command = [str(prepared.executable), "-a", "-s"]
        if listing:
            command += ["-n", str(listing)]
        if time_limit:
            command += ["-time", str(max(1, round(time_limit * 1000)))]
        out, err, returncode, run.interrupted = runtime.communicate(
            [*command, str(path)], time_limit
        )
    values: dict[str, object] = {}
    for line in out.splitlines():
        if m := _ASSIGNED.match(line):
            values[m[1]] = _value(m[2])
        elif line == "----------":
            run.solutions.append(values)
            run.status, values = "FEASIBLE", {}
        elif line == "==========":
            run.status = "OPTIMAL"
        elif line == "=====UNSATISFIABLE=====":
            run.status = "INFEASIBLE"
        elif m := _STATISTIC.match(line):
            run.statistics[m[1]] = _number(m[2])
    failed = returncode != 0 or "=====ERROR=====" in out
    if failed and not run.interrupted and run.status == "UNKNOWN":
        message = err.strip() or f"exit status {returncode}"
        raise HadacError(f"{prepared.executable.name} failed: {message}")
    return run


def _value(text: str) -> object:
    """An output value of FlatZinc: an int, a bool, a float, an array of them (flat), or
    else its text."""
    if m := _LIST.match(text):
        return [_value(part.strip()) for part in m[1].split(",")] if m[1].strip() else []
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return _number(text)


def _number(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text.strip('"')
