"""One build, many questions: random queries answered without touching the model.

Each build is compiled once; then random bounds on random quantities (targets, lets, the
spec's expressions) and a random objective are solved, and every answer is compared with
exhaustive enumeration of the saved estimators. `model.mzn` must keep its bytes and its
modification time throughout: a query is data, never an edit of the model.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hadac.builddir import BuildDir
from hadac.checks import load
from hadac.compiler import compile_spec
from hadac.query import Limit, Objective, Query
from hadac.solve import MIP_ABSOLUTE, close, run
from hadac.units import evaluate, from_json

REPO = Path(__file__).resolve().parent.parent
QUERIES = int(os.environ.get("HADAC_QUERIES", "50"))
# A solve of the MIP build takes seconds (COIN-BC without its preprocessing, see
# hadac.solvers, mip_flags; bundled HiGHS 5 to 20 s): a few queries by default, all 50 with
# HADAC_QUERIES_MIP=50 (docs/performance.md gives the command and its time).
QUERIES_MIP = int(os.environ.get("HADAC_QUERIES_MIP", "5"))


def enumerate_build(build: BuildDir, spec: Path) -> dict[str, np.ndarray]:
    """Every configuration of the spec, with every quantity of the build predicted on it by
    the saved estimators; `pair` and `config` say which configuration each row is."""
    problem, _ = load(spec)
    manifest = build.manifest
    columns: dict[str, list] = {"pair": []}
    quantities: dict[str, list] = {q.name: [] for q in manifest.quantities}
    for index, pair in enumerate(manifest.pairs):
        grid = problem.algorithm(pair.algorithm).points()
        values = dict(build.hardware_attributes(pair.hardware))
        for t in manifest.targets:
            values[t.name] = build.estimator(pair.algorithm, pair.hardware, t.name).predict(grid)
        for q in manifest.quantities:
            with np.errstate(all="ignore"):
                result = evaluate(from_json(q.expr), values)
            quantities[q.name].append(np.asarray(result, dtype=float) * np.ones(len(grid)))
        columns["pair"].append(np.full(len(grid), index))
    out = {name: np.concatenate(parts) for name, parts in quantities.items()}
    out["pair"] = np.concatenate(columns["pair"])
    return out


def oracle(build: BuildDir, table: dict[str, np.ndarray], query: Query) -> float | None:
    """The optimum of the query by enumeration; None when no configuration meets it, and
    nan when it is feasible without an objective."""
    pairs = build.manifest.pairs
    meets = np.ones(len(table["pair"]), dtype=bool)
    for limit in query.limits:
        margins = np.array([limit.margin(p.algorithm, p.hardware) for p in pairs])[table["pair"]]
        values = table[limit.quantity]
        meets &= (
            values + margins <= limit.bound if limit.op == "<=" else values - margins >= limit.bound
        )
    if not meets.any():
        return None
    if query.objective is None:
        return float("nan")
    values = table[query.objective.quantity][meets]
    return float(values.min() if query.objective.sense == "minimize" else values.max())


def random_query(build: BuildDir, table: dict[str, np.ndarray], rng: np.random.Generator) -> Query:
    """One to three bounds on random quantities, drawn inside each one's range so that both
    feasible and infeasible queries occur, and a random objective (or none)."""
    spec = Query.of_spec(build.manifest)
    quantities = build.manifest.quantities
    limits = [x for x in spec.limits if rng.random() < 0.5]  # some of the spec's own
    for _ in range(int(rng.integers(1, 4))):
        q = quantities[int(rng.integers(len(quantities)))]
        values = table[q.name]
        bound = float(np.quantile(values, rng.uniform(0.02, 0.98)))
        op = "<=" if rng.random() < 0.6 else ">="
        limits.append(Limit(q.name, op, bound, f"{q.name} {op} {bound!r}", q.unit))
    objective = None
    if rng.random() < 0.9:
        q = quantities[int(rng.integers(len(quantities)))]
        sense = "minimize" if rng.random() < 0.6 else "maximize"
        objective = Objective(q.name, sense, f"{sense} {q.name}")
    return Query(tuple(limits), objective)


def answers_equal_enumeration(build: BuildDir, spec: Path, solvers: dict[str, int]) -> None:
    model = build.model_path
    before = (model.read_bytes(), model.stat().st_mtime_ns)
    table = enumerate_build(build, spec)
    rng = np.random.default_rng(20261202)
    queries = [random_query(build, table, rng) for _ in range(max(solvers.values()))]
    if len(queries) >= 10:  # a dozen random queries hold infeasible ones too
        assert any(oracle(build, table, q) is None for q in queries), "no infeasible query"
    for solver, count in solvers.items():
        for number, query in enumerate(queries[:count]):
            expected = oracle(build, table, query)
            result, point = run(build, query, solver)
            where = f"{solver}, query {number}: {query.to_json()}"
            if expected is None:
                assert result.status == "INFEASIBLE" and point is None, where
                continue
            proven = "OPTIMAL" if query.objective is not None else "FEASIBLE"
            assert result.status == proven and point is not None, f"{where}: {result.status}"
            if query.objective is not None:
                got = point.quantities[query.objective.quantity]
                slack = 0.0 if build.enumerated else MIP_ABSOLUTE  # the MIP's tolerance
                assert close(got, expected, 1e-6) or abs(got - expected) <= slack, (
                    f"{where}: {got!r} against the enumerated optimum {expected!r}"
                )
    assert (model.read_bytes(), model.stat().st_mtime_ns) == before


@pytest.mark.requires_solver("cbc", "gecode")
@pytest.mark.parametrize(("spec", "count"), [("tiny", QUERIES), ("carbon", QUERIES // 5)])
def test_enumerated_build_answers_random_queries(spec, count, tmp_path):
    path = REPO / "specs" / f"{spec}.hada"
    build = BuildDir(compile_spec(path, tmp_path / spec).directory)
    answers_equal_enumeration(build, path, {"cbc": count, "gecode": count})


@pytest.fixture(scope="module")
def structure(tmp_path_factory) -> BuildDir:
    path = REPO / "specs" / "structure.hada"
    build = BuildDir(compile_spec(path, tmp_path_factory.mktemp("q") / "structure").directory)
    assert build.manifest.model.shape == "mip"
    return build


@pytest.mark.requires_solver("cbc")
def test_mip_build_answers_random_queries(structure):
    answers_equal_enumeration(structure, REPO / "specs" / "structure.hada", {"cbc": QUERIES_MIP})


@pytest.mark.requires_solver("highs")
def test_mip_build_answers_random_queries_with_highs(structure):
    count = max(2, QUERIES_MIP // 3)
    answers_equal_enumeration(structure, REPO / "specs" / "structure.hada", {"highs": count})


@pytest.mark.requires_solver("cbc")
def test_mip_build_with_an_algorithm_without_params(tmp_path):
    """A program without params is one row of a table in the MIP model, next to encoded
    surrogates of the others; maximising is where a wrong pair would show."""
    rng = np.random.default_rng(3)
    for hardware, time, memory, emissions in (
        ("laptop", 25.0, 150.0, 3e-4),
        ("server", 9.0, 185.0, 5e-4),
    ):
        rows = ["instance,time(sec),sol(keuro),memAvg(MB),energy(kWh),CO2e(kg)"]
        for i in range(20):
            u = rng.uniform(0.9, 1.1, 4)
            rows.append(
                f"{i},{time * u[0]:.4f},{300 + 30 * u[1] - 27:.3f},{memory * u[2]:.3f},0.001,"
                f"{emissions * u[3]:.6g}"
            )
        (tmp_path / f"fixed_{hardware}.csv").write_text("\n".join(rows) + "\n")
    spec = (REPO / "specs" / "structure.hada").read_text().replace('"data/', f'"{REPO}/specs/data/')
    fixed = (
        f'algorithm fixed {{\n  data laptop = "{tmp_path}/fixed_laptop.csv"\n'
        f'  data server = "{tmp_path}/fixed_server.csv"\n}}\n\ntarget time'
    )
    path = tmp_path / "fixed.hada"
    path.write_text(spec.replace("target time", fixed, 1))
    build = BuildDir(compile_spec(path, tmp_path / "build").directory)
    assert build.manifest.model.shape == "mip"
    answers_equal_enumeration(build, path, {"cbc": 12})
