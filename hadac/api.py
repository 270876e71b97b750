"""The Python API: `hadac.load(spec_or_build)` gives a `Study`, which answers questions.

The command line, `hadac serve` and a notebook ask a build their questions the same way:
open it (compiling a spec into its build when the one in place is missing or out of date),
turn the what-ifs into a `Query`, pick a solver that fits the model's shape, solve and
verify. This module is that one way; `hadac.cli` adds printing and exit codes to it and
`hadac.server` HTTP, so an answer is the same object whichever of them asked.

Every error is a `HadacError` carrying located diagnostics: an expression's error points
into the argument that held it (`constraints[0]:1:6`), as the command line's points into
its flag (`--constraint:1:6`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import hadac.solvers as solver_table
from hadac.builddir import BuildDir
from hadac.errors import Diagnostic, HadacError
from hadac.inputs import Given, InputValue, parse_input
from hadac.query import FIELDS, Names, Query, what_if

if TYPE_CHECKING:
    from hadac.compiler import Build
    from hadac.describe import Description
    from hadac.manifest import Manifest
    from hadac.pareto import Front
    from hadac.solve import Answer

# A time limit in seconds: from 1 ms (MiniZinc counts milliseconds, so less would mean no
# limit at all) to a million (about 11 days).
TIME_LIMITS = (0.001, 1e6)

# Instance inputs: by name, or as the command line gives them.
Inputs = Mapping[str, float] | Given | None


def time_limit_problem(seconds: float, written: str | None = None) -> str | None:
    """Why `seconds` (as the user `written` it) is no time limit, or None when it is one
    (nan is not)."""
    low, high = TIME_LIMITS
    if not low <= seconds <= high:
        shown = written or repr(seconds)
        return f"{shown} is not a time limit: give seconds from {low} to {high:.0f}"
    return None


def load(
    target: str | Path, output: str | Path | None = None, location: str | None = None
) -> Study:
    """The study of a spec (compiled into `output`, by default `build/<spec>`, unless the
    build there is up to date) or of a build directory (refused when its spec or data
    changed since it was compiled). `location` puts every hardware in that country, which
    needs the spec: it is compiled in."""
    target = Path(target)
    if target.is_dir():
        if location is not None:
            raise HadacError(
                Diagnostic(
                    "a location needs the spec (it compiles again), not a build directory",
                    Path("location"),
                )
            )
        build = BuildDir(target)
        stale = build.changes()
        if stale:
            raise HadacError(
                f"the build {target} is out of date: {'; '.join(stale)}; compile again"
                f" (hadac compile {build.spec_path}) or solve the spec itself"
            )
        return Study(build)
    from hadac.compiler import compile_or_reuse

    build, compiled = compile_or_reuse(target, output, location)
    return Study(build, compiled, target, location)


class Study:
    """One build and the questions it answers: `solve`, `pareto`, `describe`.

    A study opened from a spec can answer for another location too: that is another build
    (the location's carbon intensity is compiled in), made once beside this one, so that a
    what-if never replaces the build in place. Safe to share between threads: each solve
    reads the build and runs its own solver process.
    """

    def __init__(
        self,
        build: BuildDir,
        compiled: Build | None = None,
        spec: Path | None = None,
        location: str | None = None,
    ):
        self.build = build
        self.compiled = compiled  # the compile `load` made, None when the build was reused
        self.location = location
        self._spec = spec  # None when opened as a build directory: it cannot compile
        self._compile_seconds = compiled.seconds if compiled is not None else None
        self._source = build.spec_path.read_text()  # the spec as compiled, for `describe`
        self._lock = threading.Lock()
        self._compiling = threading.Lock()  # one compile for a location, however many ask
        self._elsewhere: dict[str, Study] = {}

    @property
    def name(self) -> str:
        """The spec's name: what `hadac serve` calls the study."""
        return self.manifest.spec.name

    @property
    def manifest(self) -> Manifest:
        return self.build.manifest

    def __repr__(self) -> str:
        return f"<hadac.Study {self.name} at {self.build.directory}>"

    def at(self, location: str | None) -> Study:
        """This study with every hardware at `location` (None: as loaded)."""
        if location is None or location == self.location:
            return self
        if self._spec is None:
            raise HadacError(
                Diagnostic(
                    "a location needs the spec (it compiles again); this study was opened"
                    f" from the build directory {self.build.directory}",
                    Path("location"),
                )
            )
        from hadac import carbon  # with its spec and tables: only a location needs it

        if not carbon.is_code(location):
            raise HadacError(
                Diagnostic(
                    f"'{location}' is not an ISO 3166 alpha-3 code like FRA", Path("location")
                )
            )
        with self._compiling:
            if location not in self._elsewhere:
                directory = self.build.directory
                own = directory.name.removesuffix(f"@{self.location}" if self.location else "")
                beside = directory.with_name(f"{own}@{location}")
                self._elsewhere[location] = load(self._spec, beside, location)
            return self._elsewhere[location]

    def query(
        self,
        minimize: str | None = None,
        maximize: str | None = None,
        constraints: Sequence[str] | str = (),
        drop_constraints: Sequence[str | int] | str = (),
        names: Names = FIELDS,
        inputs: Inputs = None,
    ) -> Query:
        """The spec's own query changed as `hadac solve`'s flags change it (see
        `hadac.query.what_if`), for the instance `inputs` describes; errors name each
        argument as `names` says."""
        manifest = self.manifest
        query = what_if(
            manifest,
            Query.of_spec(manifest),
            _items(constraints),
            minimize,
            maximize,
            tuple(str(item) for item in _items(drop_constraints)),
            names,
        )
        return query.with_inputs(manifest, self.inputs(inputs))

    def inputs(self, inputs: Inputs = None) -> list[InputValue]:
        """Instance inputs as values of the build's declared inputs: `{"pv_mean": 268}`, or
        the command line's `--input`/`--inputs` as a `Given`."""
        if inputs is None:
            return []
        if isinstance(inputs, Given):
            return inputs.values(self.manifest)
        return [
            parse_input(self.manifest, f"{name}={value!r}", "inputs")
            for name, value in inputs.items()
        ]

    def solver(self, name: str | None = None) -> str:
        """The solver a solve uses: `name`, else the spec's, else hadac's default for the
        build (`solvers.default_for`); refused
        when it is unknown or does not take this build's model."""
        from hadac.solve import check_solver

        chosen = name or self.manifest.solver or solver_table.default_for(self.manifest)
        solver_table.get(chosen)
        check_solver(self.build, chosen)
        return chosen

    def answer(
        self,
        query: Query,
        solver: str | None = None,
        time_limit: float | None = None,
        by_pair: int | None = None,
    ) -> Answer:
        """Solve a query and verify the answer; infeasibility comes with its explanation.
        `by_pair` (a number of jobs) solves a MIP model one pair at a time, 0 as one model
        (a CP solver too: no pair settled first), None as `solve_build` chooses."""
        from hadac.solve import solve_build

        chosen = self.solver(solver)
        _check_time_limit(time_limit)
        seconds = self._take_compile_seconds()
        return solve_build(self.build, chosen, time_limit, seconds, query, by_pair)

    def solve(
        self,
        minimize: str | None = None,
        maximize: str | None = None,
        constraints: Sequence[str] | str = (),
        drop_constraints: Sequence[str | int] | str = (),
        location: str | None = None,
        solver: str | None = None,
        time_limit: float | None = None,
        inputs: Inputs = None,
        by_pair: int | None = None,
    ) -> Answer:
        """What `hadac solve` answers with the flags of the same names: `constraints` as a
        spec writes them ("time <= 10 s"), `drop_constraints` by number (1 is the first of
        the spec) or text, `time_limit` in seconds, `inputs` the instance's (`{"pv_mean":
        268}`)."""
        study = self.at(location)
        query = study.query(minimize, maximize, constraints, drop_constraints, inputs=inputs)
        return study.answer(query, solver, time_limit, by_pair)

    def pareto(
        self,
        objectives: Sequence[str] | str,
        points: int = 10,
        solver: str | None = None,
        time_limit: float | None = None,
        location: str | None = None,
        inputs: Inputs = None,
    ) -> Front:
        """The Pareto front of two targets or lets (`"cost,time"` or `["cost", "time"]`),
        both minimized under the spec's constraints, as `hadac pareto` traces it."""
        from hadac import pareto

        study = self.at(location)
        names = objectives.split(",") if isinstance(objectives, str) else list(objectives)
        first, second = pareto.axes(study.manifest, [name.strip() for name in names])
        chosen = study.solver(solver)
        _check_time_limit(time_limit)
        started = time.perf_counter()
        given = study.inputs(inputs)
        front = pareto.trace(study.build, first, second, chosen, points, time_limit, given)
        front.seconds = time.perf_counter() - started + (study._take_compile_seconds() or 0.0)
        return front

    def describe(self) -> Description:
        """What the study is about: params with their domains, targets with units, lets,
        the spec's objective and constraints, hardware, and the solvers that fit."""
        from hadac.describe import describe

        return describe(self.build, self._source)

    def _take_compile_seconds(self) -> float | None:
        """The time of the compile `load` made, for the first answer only: it was that
        answer's cost, not every later one's."""
        with self._lock:
            seconds, self._compile_seconds = self._compile_seconds, None
        return seconds


def _items(value: Sequence[str] | str) -> tuple[str, ...]:
    """A list argument given as one string is one item, not its characters."""
    return (value,) if isinstance(value, str) else tuple(value)


def _check_time_limit(seconds: float | None) -> None:
    if seconds is None:
        return
    problem = time_limit_problem(float(seconds))
    if problem is not None:
        raise HadacError(Diagnostic(problem, Path("time_limit")))
