"""Solving a MIP build with a CP solver: its CP model (`hadac.encode.cp`), made exact.

The CP model computes every quantity in fixed point, as two integer sums with
`low <= scale * value <= high`, and posts the query's bounds and objective on them: the
sums of a configuration can meet a bound that its true value misses, never the reverse, and
its relaxed objective (`low`, or `-high` when maximising) never exceeds the true one. So:

1. the CP solver finds the least relaxed objective v over the relaxation (none at all:
   the query is infeasible, proven);
2. every configuration whose relaxed objective is at most a cut is listed (once per choice
   of leaves: predictions are the same anywhere in their boxes) and decided with `predict`;
3. the cut starts at the true objective of step 1's configuration when it meets every
   bound, else a little above v, and grows until the best configuration listed is no worse
   than any configuration beyond the cut can be. That one is the optimum of the fitted
   models, as on every other path; `SolveResult.candidates` says how many were decided.

Before step 1, a local search on the fitted models (`hadac.localsearch`) looks for a good
configuration that meets every bound. With its true objective as the cut, step 2 alone
finds and proves the optimum, without the search of step 1: one CP run instead of two.

The query's data are variables of the model that the data fixes, so `prepare` flattens
both solve items once, at compile time, for the default CP solver when it has a native
FlatZinc executable (`hadac.prepared`): a solve then costs the solver's own run instead of
MiniZinc's flattening of the whole model, twice.
"""

from __future__ import annotations

import math
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hadac import jsondata, localsearch, prepared, runtime, solvers
from hadac.builddir import BuildDir, sha256
from hadac.encode import names
from hadac.encode.fixedpoint import BIG
from hadac.encode.tables import quantity_values
from hadac.errors import HadacError
from hadac.manifest import CpRecord, FlatZincRecord, Manifest, PreparedRecord
from hadac.query import Query
from hadac.units import from_json

CANDIDATES_LIMIT = 200_000  # configurations decided by `predict` before the solve gives up
FIRST_LISTING_LIMIT = 1_000  # configurations listed from a local search's cut before a search
# the query's data of the model (`query_data`), and those the listing adds (`cut_data`)
QUERY = ("USE_UPPER", "UPPER", "USE_LOWER", "LOWER", "OBJECTIVE", "MAXIMIZE", "PAIR_ORDER")
CUT = ("CUT", "EXCLUDE", "EXCLUDE_PAIR", "EXCLUDE_AT")


@dataclass
class Candidate:
    """A configuration the CP solver listed: its pair, its params' positions, and its
    fixed-point sums (none for a configuration found otherwise)."""

    pair: int
    positions: tuple[int, ...]
    low: list[int]
    high: list[int]
    values: dict[str, float] | None = None  # every quantity, by `predict`, once decided


def query_data(build: BuildDir, query: Query) -> dict[str, object]:
    """The CP model's query data: per quantity and pair, each bound in fixed point (one unit
    looser than the rounded value, so no rounding can cut a configuration off), the
    objective, and the pairs in the order the search tries them. A pair outside the query's
    `pairs` gets a bound on the first quantity that no configuration meets."""
    manifest = build.manifest
    cp = manifest.model.cp
    if query.ranges:
        raise HadacError("the CP model takes no ranges of params")
    pairs = manifest.pairs
    out: dict[str, object] = {}
    for op, use, key in (("<=", "USE_UPPER", "UPPER"), (">=", "USE_LOWER", "LOWER")):
        out[use], out[key] = [], []
        for q in cp.quantities:
            limits = [x for x in query.limits if (x.quantity, x.op) == (q.name, op)]
            out[use].append(bool(limits))
            row = []
            for p in pairs:
                values = [x.limit(x.margin(p.algorithm, p.hardware)) * q.scale for x in limits]
                if op == "<=":
                    row.append(_clip(math.floor(min(values)) + 1) if values else BIG)
                else:
                    row.append(_clip(math.ceil(max(values)) - 1) if values else -BIG)
            out[key].append(row)
    if query.pairs is not None:
        out["USE_UPPER"][0] = True
        for p in range(1, len(pairs) + 1):
            if p not in query.pairs:
                out["UPPER"][0][p - 1] = -BIG
    objective = query.objective
    order = list(range(1, len(pairs) + 1))
    if objective is None:
        out["OBJECTIVE"], out["MAXIMIZE"] = 0, False
    else:
        index = [q.name for q in cp.quantities].index(objective.quantity)
        q = cp.quantities[index]
        maximize = objective.sense == "maximize"
        out["OBJECTIVE"], out["MAXIMIZE"] = index + 1, maximize
        best = [-h for h in q.pair_high] if maximize else list(q.pair_low)
        order.sort(key=lambda p: best[p - 1])
    out["PAIR_ORDER"] = order
    return out


def cut_data(cut: int, exclude: Candidate | None, manifest: Manifest) -> dict[str, object]:
    """The listing's data: every configuration whose relaxed objective is at most `cut`,
    except those on the pair of `exclude` (when given) with its objective's leaves."""
    at: list[int] = []
    algorithm = None if exclude is None else manifest.pairs[exclude.pair - 1].algorithm
    for name, domains in manifest.model.cp.domains.items():
        at += list(exclude.positions) if name == algorithm else [1] * len(domains)
    return {
        "CUT": int(_clip(cut)),
        "EXCLUDE": exclude is not None,
        "EXCLUDE_PAIR": 1 if exclude is None else exclude.pair,
        "EXCLUDE_AT": at,
    }


def prepare(directory: Path, cp: CpRecord) -> PreparedRecord | None:
    """Flatten the CP model of the build being written in `directory`, both solve items at
    once, for the default CP solver when this machine runs it natively; None otherwise."""
    found = prepared.flatzinc_solver(solvers.CP_DEFAULT)
    if found is None:
        return None
    info, _ = found
    model, best, candidates, data = (
        directory / n for n in (cp.file, cp.best, cp.candidates, cp.data)
    )
    items = ((best, QUERY), (candidates, QUERY + CUT))
    paths = [directory / item.name.replace(".mzn", f".{info.name}.fzn") for item, _ in items]
    with ThreadPoolExecutor(len(paths)) as pool:
        runs = [
            pool.submit(prepared.flatten, info, [model, item, data], path)
            for (item, _), path in zip(items, paths, strict=True)
        ]
        for run in runs:
            run.result()
    records = []
    for (_, names_), path in zip(items, paths, strict=True):
        query = prepared.query_variables(path.read_text(), list(names_))
        if query is None:
            raise HadacError(f"MiniZinc folded a query variable of {path.name} away")
        records.append(FlatZincRecord(path.name, query, sha256(path)))
    return PreparedRecord(info.name, info.version, *records)


def _clip(value: int) -> int:
    return max(-BIG, min(BIG, value))


@dataclass(frozen=True)
class Start:
    """What a local search on the fitted models found before the solve, which then does not
    search again: a configuration that meets the query (it may lie on a pair outside the
    query's `pairs`: then the answer may too), or None when it found none."""

    configuration: localsearch.Configuration | None


def solve(
    build: BuildDir,
    query: Query,
    solver: str,
    time_limit: float | None,
    start: Start | None = None,
) -> runtime.SolveResult:
    """The exact answer of the fitted models to `query`, found with the CP model, from
    `start` when given, else from a local search of its own."""
    cp = build.manifest.model.cp
    started = time.perf_counter()
    statistics = {"flatTime": 0.0, "solveTime": 0.0}
    runner = _Runner(build, solver)

    def left() -> float | None:
        return (
            None if time_limit is None else max(1.0, time_limit - (time.perf_counter() - started))
        )

    with tempfile.TemporaryDirectory(prefix="hadac-cp-") as folder:
        data = query_data(build, query)
        decider = _Decider(build, query, cp)
        if start is None:
            incumbent = _incumbent(decider)
        elif start.configuration is not None:
            incumbent = decider.known(*start.configuration)
        else:
            incumbent = None
        if incumbent is not None:
            found = _listed_under(
                incumbent, decider, runner, data, Path(folder), left(), statistics
            )
            if found is not None:
                statistics["candidates"] = decider.count
                return runtime.SolveResult("OPTIMAL", decider.values(found), statistics, False)
        first = runner.run(0, data, Path(folder), left())
        _add(statistics, first)
        if first.status == "INFEASIBLE" and incumbent is not None:
            if query.pairs is None or incumbent.pair in query.pairs:
                raise HadacError(
                    "the CP model has no solution, but a configuration meets every bound"
                )
            statistics["candidates"] = decider.count  # none on the pairs solved: it is best
            return runtime.SolveResult("OPTIMAL", decider.values(incumbent), statistics, False)
        if first.status == "INFEASIBLE" or not (first.values or incumbent):
            return runtime.SolveResult(first.status, {}, statistics, first.interrupted)
        proven, interrupted = first.status == "OPTIMAL", first.interrupted
        relaxed = int(first.values["objective"]) if first.values else 0
        listed = [_candidate(build, first.values)] if first.values else []
        found = decider.decide(listed + ([incumbent] if incumbent else []))
        # without a true objective in hand, the true optimum may lie one unit per tree and
        # the constant's two above the relaxed one
        cut = _cut(decider, found) if found is not None else relaxed + cp.trees + 3
        while True:
            if not proven or (query.objective is None and found is not None):
                break  # out of time, or any configuration that meets the bounds will do
            # ties with an answer already found cannot beat it, unless a second objective
            # may order them
            exclude = found is not None and query.objective.then is None
            listing = data | cut_data(cut, found if exclude else None, build.manifest)
            result = runner.run(1, listing, Path(folder), left(), CANDIDATES_LIMIT + 1)
            if len(result.solutions) > CANDIDATES_LIMIT:
                raise HadacError(
                    f"more than {CANDIDATES_LIMIT} configurations lie within the CP model's"
                    " rounding of the optimum; solve this build with cbc or highs"
                )
            listed = [_candidate(build, values) for values in result.solutions]
            _add(statistics, result)
            interrupted = result.interrupted
            complete = result.status in ("OPTIMAL", "INFEASIBLE") and not interrupted
            proven = complete
            found = decider.decide(listed) or found
            if not complete or cut >= BIG or query.objective is None:
                break
            if found is not None and decider.objective(found) <= cut + 1:
                break  # beyond the cut, every relaxed objective is at least cut + 1
            cut = _cut(decider, found) if found is not None else relaxed + 8 * (cut - relaxed + 1)
            if cut >= BIG // 2:
                cut = BIG
    statistics["candidates"] = decider.count
    if found is None:
        status = "INFEASIBLE" if proven else "UNKNOWN"
        return runtime.SolveResult(status, {}, statistics, interrupted)
    status = "OPTIMAL" if proven else "FEASIBLE"
    return runtime.SolveResult(status, decider.values(found), statistics, interrupted)


def guess(build: BuildDir, query: Query) -> dict | None:
    """The solver values (as `BuildDir.decode` reads them) of a configuration that meets
    every bound, found by local search on the fitted models; None when the query has no
    objective or the search found none."""
    decider = _Decider(build, query, build.manifest.model.cp)
    found = _incumbent(decider)
    return None if found is None else decider.values(found)


def best_of(
    build: BuildDir, query: Query, configurations: list[localsearch.Configuration]
) -> dict | None:
    """The solver values of the best of `configurations` by `predict`, None when none of
    them meets every bound of the query (which must have an objective)."""
    decider = _Decider(build, query, build.manifest.model.cp)
    values = decider.objectives(configurations)
    best = int(np.argmin(values))
    if not np.isfinite(values[best]):
        return None
    return decider.values(decider.known(*configurations[best]))


def _incumbent(decider: _Decider) -> Candidate | None:
    """A configuration that meets every bound, found by local search on the fitted models
    (`hadac.localsearch`) and decided; None when the query has no objective or the search
    found none."""
    if decider.query.objective is None:
        return None
    pairs = decider.build.manifest.pairs
    sizes = [[len(d) for d in decider.cp.domains[p.algorithm]] for p in pairs]
    chosen = decider.query.pairs

    def objectives(configurations: list[localsearch.Configuration]) -> np.ndarray:
        out = decider.objectives(configurations)
        if chosen is not None:  # none elsewhere
            out[[pair not in chosen for pair, _ in configurations]] = np.inf
        return out

    start = localsearch.search(sizes, objectives)
    return None if start is None else decider.known(*start)


def _listed_under(
    incumbent: Candidate,
    decider: _Decider,
    runner: _Runner,
    data: dict[str, object],
    folder: Path,
    time_limit: float | None,
    statistics: dict,
) -> Candidate | None:
    """The optimum, found and proven by one listing whose cut is the incumbent's true
    objective: every configuration at least as good has a relaxed objective at most the cut,
    so it is listed and decided. None when the listing is incomplete or longer than
    `FIRST_LISTING_LIMIT`: the solve then searches for the least relaxed objective first."""
    exclude = incumbent if decider.query.objective.then is None else None
    listing = data | cut_data(_cut(decider, incumbent), exclude, decider.build.manifest)
    result = runner.run(1, listing, folder, time_limit, FIRST_LISTING_LIMIT + 1)
    _add(statistics, result)
    complete = result.status in ("OPTIMAL", "INFEASIBLE") and not result.interrupted
    if not complete or len(result.solutions) > FIRST_LISTING_LIMIT:
        return None
    listed = [_candidate(decider.build, values) for values in result.solutions]
    return decider.decide([incumbent, *listed])


class _Runner:
    """Runs of the CP model's solve items (0: the best, 1: the listing) with a query's data:
    on the build's prepared FlatZinc when it was flattened for this solver, else through
    MiniZinc's command line."""

    def __init__(self, build: BuildDir, solver: str):
        self.build = build
        self.info = runtime.solver_info(solver)
        self.prepared: PreparedRecord | None = None
        self.executable: Path | None = None
        self.ready: dict[int, prepared.Prepared] = {}  # each item's FlatZinc, once read
        record = build.manifest.model.cp.prepared
        found = prepared.flatzinc_solver(solver) if prepared.enabled() else None
        if found is not None and record is not None:
            if (record.solver, record.version) == (solver, self.info.version):
                self.prepared, self.executable = record, found[1]

    def run(
        self, item: int, data: dict, folder: Path, time_limit: float | None, listing: int = 0
    ) -> runtime.Run:
        if self.prepared is not None and self.executable is not None:
            if item not in self.ready:
                record = self.prepared.files[item]
                text = (self.build.directory / record.file).read_text()
                self.ready[item] = prepared.Prepared.of(text, record.query, self.executable)
            run = prepared.solutions(self.ready[item], data, time_limit, listing)
            # reading the FlatZinc is what remains of flattening
            run.statistics["flatTime"] = run.statistics.get("initTime", 0.0)
            return run
        cp = self.build.manifest.model.cp
        path = folder / f"query-{item}.json"
        path.write_text(jsondata.dumps(data))
        files = [self.build.directory / n for n in (cp.file, (cp.best, cp.candidates)[item])]
        files += [self.build.directory / cp.data, path]
        return runtime.command_line(self.info, files, time_limit, listing=listing)


def _add(statistics: dict, run: runtime.Run) -> None:
    for key in ("flatTime", "solveTime"):
        statistics[key] += run.statistics.get(key, 0.0)


def _cut(decider: _Decider, found: Candidate) -> int:
    """A cut that lists every configuration that can beat (or tie) `found`."""
    return math.floor(decider.objective(found))


def configuration(build: BuildDir, values: dict) -> localsearch.Configuration:
    """The configuration of solver `values` (as `BuildDir.decode` reads them)."""
    manifest = build.manifest
    pair = int(values["pair"])
    algorithm = manifest.pairs[pair - 1].algorithm
    domains = manifest.model.cp.domains[algorithm]
    params = manifest.params[algorithm]
    return pair, tuple(d.index(values[p.var]) + 1 for p, d in zip(params, domains, strict=True))


def _candidate(build: BuildDir, values: dict) -> Candidate:
    """The pair, positions and sums of one solution of the CP model."""
    manifest = build.manifest
    pair = int(values["pair"])
    algorithm = manifest.pairs[pair - 1].algorithm
    positions = tuple(
        int(values[names.position_var(algorithm, p.name)]) for p in manifest.params[algorithm]
    )
    return Candidate(pair, positions, list(values["low"]), list(values["high"]))


class _Decider:
    """The true value, by `predict`, of the configurations the CP solver lists: which meet
    every bound, the best of them, and whether each lies within its fixed-point sums."""

    def __init__(self, build: BuildDir, query: Query, cp: CpRecord):
        self.build, self.query, self.cp = build, query, cp
        self.count = 0
        self.seen: dict[tuple, dict[str, float] | None] = {}

    def quantities(self, candidates: list[Candidate]) -> list[dict[str, float]]:
        """Every quantity of each candidate, predicted pair by pair."""
        manifest = self.build.manifest
        out: list[dict[str, float] | None] = [None] * len(candidates)
        by_pair: dict[int, list[int]] = {}
        for i, c in enumerate(candidates):
            by_pair.setdefault(c.pair, []).append(i)
        for index, rows in sorted(by_pair.items()):
            pair = manifest.pairs[index - 1]
            domains = self.cp.domains[pair.algorithm]
            grid = np.array(
                [
                    [d[k - 1] for d, k in zip(domains, candidates[i].positions, strict=True)]
                    for i in rows
                ],
                dtype=float,
            ).reshape(len(rows), len(domains))
            known = {
                t.name: self.build.predict_rows(pair.algorithm, pair.hardware, grid, t.name)
                for t in manifest.targets
            }
            known |= {
                k: np.full(len(rows), v)
                for k, v in self.build.hardware_attributes(pair.hardware).items()
            }
            columns = {
                q.name: quantity_values(from_json(q.expr), known, len(rows))
                for q in manifest.quantities
            }
            for j, i in enumerate(rows):
                out[i] = {name: float(column[j]) for name, column in columns.items()}
        return out

    def objectives(self, configurations: list[tuple[int, tuple[int, ...]]]) -> np.ndarray:
        """Each configuration's true objective in fixed point (as `objective`), inf where it
        misses a bound of the query; none of them counts as decided."""
        candidates = [Candidate(pair, positions, [], []) for pair, positions in configurations]
        out = np.full(len(candidates), np.inf)
        for i, (c, values) in enumerate(zip(candidates, self.quantities(candidates), strict=True)):
            if self._meets(c, values):
                c.values = values
                out[i] = self.objective(c)
        return out

    def known(self, pair: int, positions: tuple[int, ...]) -> Candidate:
        """A configuration found without the CP solver, decided."""
        c = Candidate(pair, positions, [], [])
        self.count += 1
        c.values = self.quantities([c])[0]
        self.seen[(pair, positions)] = c.values if self._meets(c, c.values) else None
        return c

    def decide(self, candidates: list[Candidate]) -> Candidate | None:
        """The best candidate that meets every limit of the query, or None."""
        fresh = [c for c in candidates if (c.pair, c.positions) not in self.seen]
        self.count += len(fresh)
        for c, values in zip(fresh, self.quantities(fresh), strict=True):
            self._check_sums(c, values)
            self.seen[(c.pair, c.positions)] = values if self._meets(c, values) else None
            c.values = values
        best = None
        for c in candidates:
            values = self.seen[(c.pair, c.positions)]
            if values is None:
                continue
            c.values = values
            if best is None or self._key(c) < self._key(best):
                best = c
        return best

    def _meets(self, c: Candidate, values: dict[str, float]) -> bool:
        pair = self.build.manifest.pairs[c.pair - 1]
        return all(
            x.holds(values[x.quantity], x.margin(pair.algorithm, pair.hardware))
            for x in self.query.limits
        )

    def _check_sums(self, c: Candidate, values: dict[str, float]) -> None:
        """The CP model's sums must bound every predicted value: else the model is wrong."""
        for i, q in enumerate(self.cp.quantities):
            value = values[q.name] * q.scale
            if not c.low[i] <= value <= c.high[i]:
                pair = self.build.manifest.pairs[c.pair - 1]
                raise HadacError(
                    f"the CP model's sums of '{q.name}' on {pair.algorithm} on {pair.hardware}"
                    f" are {c.low[i] / q.scale!r}..{c.high[i] / q.scale!r}, but predict"
                    f" gives {values[q.name]!r}"
                )

    def objective(self, c: Candidate) -> float:
        """The candidate's true objective in the CP model's fixed point (as `objective`)."""
        objective = self.query.objective
        if objective is None:
            return 0.0
        q = self.cp.quantity(objective.quantity)
        value = c.values[q.name] * q.scale
        return -value if objective.sense == "maximize" else value

    def _key(self, c: Candidate) -> tuple:
        objective = self.query.objective
        then = 0.0
        if objective is not None and objective.then is not None:
            then = c.values[objective.then] * (-1 if objective.sense == "maximize" else 1)
        return (self.objective(c), then, c.pair, c.positions)

    def values(self, c: Candidate) -> dict:
        """The candidate as solver values `BuildDir.decode` reads, its quantities predicted."""
        manifest = self.build.manifest
        algorithm = manifest.pairs[c.pair - 1].algorithm
        out: dict = {"pair": c.pair}
        domains = self.cp.domains[algorithm]
        for p, d, k in zip(manifest.params[algorithm], domains, c.positions, strict=True):
            out[p.var] = d[k - 1]
        out |= {q.var: c.values[q.name] for q in manifest.quantities}
        return out
