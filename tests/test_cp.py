"""CP solvers on MIP builds: the CP model (hadac.encode.cp) and its exact last step
(hadac.cpsolve), against exhaustive enumeration of the saved estimators.

The CP model sums every quantity in fixed point, so its bounds and objective are a
relaxation; the answer must still be the exact optimum of the fitted models, at bounds
equal to a predicted value and a hair beside it, on trees, forests, boosted trees, ReLU
networks and tables, and agree with cbc.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
from conftest import REPO
from test_queries import answers_equal_enumeration, enumerate_build, oracle

import hadac
from hadac import cpsolve, prepared
from hadac.builddir import BuildDir
from hadac.compiler import compile_spec
from hadac.encode.fixedpoint import BIG
from hadac.errors import HadacError
from hadac.query import Limit, Objective, Query
from hadac.solve import check_solver, forget_proven, run, solve_build

KINDS = {
    "tree": "tree(max_depth = 6)",
    "forest": "forest(n_estimators = 12, max_depth = 5)",
    "boosted": "boosted(n_estimators = 12, max_depth = 4)",
    "mlp": "mlp(hidden = [12, 6])",
}


def _study(folder, kind: str, encoding: str = "structure") -> BuildDir:
    """Two int params (1..24 and a set) on two machines, time and memory by `kind`."""
    rng = np.random.default_rng(11)
    for machine, speed in (("small", 1.0), ("large", 2.2)):
        rows = ["a,b,time,memory"]
        for a in range(1, 25):
            for b in (1, 2, 4, 8, 16, 32):
                time = (a * np.log1p(b) + 0.05 * a * b) / speed * rng.lognormal(0, 0.1)
                memory = 20 + 3 * a + 2 * b * speed + rng.normal(0, 2)
                rows.append(f"{a},{b},{time:.6g},{memory:.6g}")
        (folder / f"algo_{machine}.csv").write_text("\n".join(rows) + "\n")
    name, inner = kind.split("(")
    args = inner.rstrip(")") + f", encoding = {encoding}"
    spec = folder / "study.hada"
    spec.write_text(
        f"""spec study
hardware small {{ price = 0.5 EUR/h }}
hardware large {{ price = 2.0 EUR/h }}
algorithm algo {{
  param a: int in 1..24
  param b: int in {{1, 2, 4, 8, 16, 32}}
  data small = "algo_small.csv"
  data large = "algo_large.csv"
}}
target time   = "time"   in s  ~ {name}({args})
target memory = "memory" in MB ~ {name}({args})
minimize price * time
constraint memory <= 80 MB
"""
    )
    return BuildDir(compile_spec(spec, folder / "build").directory)


@pytest.fixture(scope="module", params=list(KINDS))
def study(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    build = _study(folder, KINDS[request.param])
    assert build.manifest.model.shape == "mip" and build.manifest.model.cp is not None
    return build, folder / "study.hada"


@pytest.mark.requires_solver("gecode", "cbc")
def test_cp_answers_random_queries_as_enumeration(study):
    build, spec = study
    answers_equal_enumeration(build, spec, {"gecode": 25, "cbc": 3})


@pytest.mark.requires_solver("gecode")
def test_cp_model_flattened_by_minizinc_per_query_answers_as_enumeration(study, monkeypatch):
    """With `HADAC_PREPARED=0` every solve flattens the CP model with its query's data, as
    a solver without a prepared FlatZinc does (Chuffed here); with it, native Gecode runs
    the FlatZinc flattened at compile time."""
    build, spec = study
    native = cpsolve._Runner(build, "gecode").executable is not None
    assert native == (prepared.flatzinc_solver("gecode") is not None)
    assert (build.manifest.model.cp.prepared is not None) == native
    monkeypatch.setenv("HADAC_PREPARED", "0")
    assert cpsolve._Runner(build, "gecode").executable is None
    answers_equal_enumeration(build, spec, {"gecode": 8})


@pytest.mark.requires_solver("gecode")
def test_every_configuration_lies_within_its_fixed_point_sums(study, tmp_path):
    """Listed without a bound or a cut, every configuration (once per choice of leaves; a
    network's params at every position) has each predicted quantity within its sums: the
    decider raises otherwise."""
    build, _ = study
    query = Query((), Query.of_spec(build.manifest).objective)
    data = cpsolve.query_data(build, query) | cpsolve.cut_data(BIG, None, build.manifest)
    run = cpsolve._Runner(build, "gecode").run(1, data, tmp_path, None, 100_000)
    listed = [cpsolve._candidate(build, values) for values in run.solutions]
    assert run.status == "OPTIMAL" and listed
    cpsolve._Decider(build, query, build.manifest.model.cp).decide(listed)
    if any(s.kind == "mlp" for s in build.manifest.surrogates):
        assert len({(c.pair, c.positions) for c in listed}) == 2 * 24 * 6


@pytest.mark.requires_solver("gecode")
def test_a_local_search_answer_is_proven_by_one_listing(study, monkeypatch):
    """When the local search finds a configuration that meets the bounds, one listing under
    its objective finds and proves the optimum: the CP solver runs once."""
    build, spec = study
    items = []
    listing = cpsolve._Runner.run

    def run_item(self, item, *args, **kwargs):
        items.append(item)
        return listing(self, item, *args, **kwargs)

    monkeypatch.setattr(cpsolve._Runner, "run", run_item)
    forget_proven()
    query = Query.of_spec(build.manifest)
    result, point = run(build, query, "gecode")
    assert result.status == "OPTIMAL" and items == [1]
    expected = oracle(build, enumerate_build(build, spec), query)
    assert point.quantities[query.objective.quantity] == expected


@pytest.mark.requires_solver("gecode")
def test_cp_answers_as_enumeration_without_a_local_search(study, monkeypatch):
    """Without a configuration from the local search (none it tried met the bounds), the
    solve searches for the least relaxed objective first, then lists: the same answers."""
    build, spec = study
    monkeypatch.setattr(cpsolve.localsearch, "search", lambda *args, **kwargs: None)
    forget_proven()
    answers_equal_enumeration(build, spec, {"gecode": 12})


@pytest.mark.requires_solver("gecode")
def test_a_cp_answer_proven_once_is_given_again_without_solving(study):
    build, _ = study
    query = Query.of_spec(build.manifest)
    forget_proven()
    first, point = run(build, query, "gecode")
    again, same = run(build, query, "gecode")
    assert first.status == again.status == "OPTIMAL" and first.statistics["solveTime"] > 0
    assert again.values == first.values and same.quantities == point.quantities
    assert again.statistics["solveTime"] == again.statistics["flatTime"] == 0.0


@pytest.mark.requires_solver("gecode")
def test_a_prepared_flatzinc_of_another_gecode_version_is_not_used(study, tmp_path):
    """The FlatZinc is the solver's own language: flattened for another version, the solve
    goes through MiniZinc, with the same answer."""
    build, _ = study
    if build.manifest.model.cp.prepared is None:
        pytest.skip("Gecode has no native FlatZinc executable here: nothing was prepared")
    copy = tmp_path / "copy"
    shutil.copytree(build.directory, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["model"]["cp"]["prepared"]["version"] = "0.0.1"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    other = BuildDir(copy)
    assert cpsolve._Runner(other, "gecode").executable is None
    assert solve_build(other, "gecode").objective == solve_build(build, "gecode").objective


@pytest.mark.requires_solver("gecode")
def test_cp_bounds_at_a_predicted_value_and_beside_it(study):
    """A bound equal to a configuration's predicted value admits it; one a hair tighter
    does not: the fixed point may not decide either, `predict` does."""
    build, spec = study
    if any(s.kind == "mlp" for s in build.manifest.surrogates):
        pytest.skip("a network's predict differs by an ulp between batch sizes (BLAS)")
    table = enumerate_build(build, spec)
    rng = np.random.default_rng(5)
    for row in rng.choice(len(table["pair"]), 6, replace=False):
        for name, other in (("time", "memory"), ("memory", "time")):
            value = float(table[name][row])
            for op, bound in (
                ("<=", value),
                ("<=", math.nextafter(value, -math.inf)),
                (">=", value),
                (">=", math.nextafter(value, math.inf)),
            ):
                for sense in ("minimize", "maximize"):
                    limit = Limit(name, op, bound, f"{name} {op} {bound!r}")
                    query = Query((limit,), Objective(other, sense, f"{sense} {other}"))
                    expected = oracle(build, table, query)
                    result, point = run(build, query, "gecode")
                    where = f"{query.to_json()}"
                    if expected is None:
                        assert result.status == "INFEASIBLE", where
                        continue
                    assert result.status == "OPTIMAL", where
                    assert point.quantities[other] == expected, where


@pytest.mark.requires_solver("gecode", "cbc")
def test_cp_and_cbc_agree_on_transprecision(tmp_path):
    """specs/transprecision.hada: 3 int params in 4..52 on 6 pairs (705,894 configurations),
    its MIP build answered by Gecode through the CP model as by enumeration. Quality is
    fitted once per kernel, so its tree serves the kernel's three pairs: 6 x 2 + 2 trees."""
    spec = REPO / "specs" / "transprecision.hada"
    build = BuildDir(compile_spec(spec, tmp_path / "tp").directory)
    assert build.manifest.model.cp is not None and build.manifest.model.cp.trees == 14
    gecode, cbc = solve_build(build, "gecode"), solve_build(build, "cbc")
    assert gecode.status == cbc.status == "OPTIMAL"
    assert gecode.objective == pytest.approx(cbc.objective, rel=1e-6)
    assert gecode.candidates >= 1
    answers_equal_enumeration(build, spec, {"gecode": 12})


@pytest.mark.requires_solver("gecode")
def test_cp_solver_refuses_a_build_without_a_cp_model(tmp_path):
    """specs/structure.hada has a linear surrogate and an MLP: no CP model, and the
    message says why."""
    build = BuildDir(compile_spec(REPO / "specs" / "structure.hada", tmp_path / "s").directory)
    assert build.manifest.model.cp is None
    assert "surrogate" in build.manifest.model.cp_refused
    with pytest.raises(HadacError, match="has no CP model .*surrogate"):
        solve_build(build, "gecode")


@pytest.mark.parametrize("study", ["mlp"], indirect=True)
def test_chuffed_refuses_the_cp_model_of_a_network(study):
    """The bundled Chuffed fails on a network's wide integer sums: refused before it runs,
    saying which solvers take the build."""
    build, _ = study
    assert build.manifest.model.cp.networks == 4  # time and memory on each machine
    with pytest.raises(HadacError, match="chuffed does not take the CP model of a ReLU network"):
        check_solver(build, "chuffed")
    offered = [s.name for s in hadac.load(build.directory).describe().solvers]
    assert offered == ["cbc", "highs", "gecode"]


@pytest.mark.requires_solver("gecode")
def test_cp_model_with_tables_and_trees(tmp_path):
    """Without `encoding = structure` a small domain makes each surrogate a table in the MIP
    model, which the CP model reads as a tree of one-point leaves; a forced MIP shape
    (memory by leaf selection) keeps the build MIP."""
    build = _study(tmp_path, "tree(max_depth = 5)", encoding="leaves")
    spec = tmp_path / "study.hada"
    text = spec.read_text().replace(
        'target time   = "time"   in s  ~ tree(max_depth = 5, encoding = leaves)',
        'target time   = "time"   in s  ~ forest(n_estimators = 5, max_depth = 4)',
    )
    spec.write_text(text)
    build = BuildDir(compile_spec(spec, tmp_path / "mixed").directory)
    assert build.manifest.model.shape == "mip"
    encodings = {s.target: s.encoding for s in build.manifest.surrogates}
    assert encodings == {"time": "table", "memory": "leaves"}
    answers_equal_enumeration(build, spec, {"gecode": 15})


@pytest.mark.requires_solver("gecode")
def test_a_build_with_a_cp_model_is_solved_by_gecode_by_default(study, tmp_path):
    """Measured faster there (docs/performance.md); a build without one keeps cbc."""
    from hadac import runtime
    from hadac import solvers as solver_table

    build, _ = study
    native = {i.name: i.where for i in runtime.solvers()}["gecode"] == "native"
    assert solver_table.default_for(build.manifest) == ("gecode" if native else "cbc")
    other = BuildDir(compile_spec(REPO / "specs" / "structure.hada", tmp_path / "s").directory)
    assert solver_table.default_for(other.manifest) == "cbc"


def _one_pair(folder, rows: list[str], top: int, kind: str, constraint: str = "") -> BuildDir:
    """A study of one algorithm on one machine, params a and b in 1..`top`, `time` by
    `kind` (its MIP shape) fitted on `rows` (a,b,time), time minimised."""
    (folder / "algo_small.csv").write_text("\n".join(["a,b,time", *rows]) + "\n")
    spec = folder / "one.hada"
    spec.write_text(
        f"""spec one
hardware small {{ price = 0.5 EUR/h }}
algorithm algo {{
  param a: int in 1..{top}
  param b: int in 1..{top}
  data small = "algo_small.csv"
}}
target time = "time" in s ~ {kind[:-1]}, encoding = structure)
minimize time
{constraint}
"""
    )
    return BuildDir(compile_spec(spec, folder / "build").directory)


def test_a_network_build_of_many_configurations_keeps_cbc_by_default(tmp_path):
    """Gecode on a network's CP model is measured faster on few configurations only
    (`solvers.NETWORK_CP_LIMIT`): above it the default stays cbc."""
    from hadac import solvers as solver_table

    grid = [(a, b) for a in (1, 100, 200, 300, 400) for b in (1, 200, 400)]
    rows = [f"{a},{b},{a * 0.01 + b * 0.02:.4f}" for a, b in grid]
    build = _one_pair(tmp_path, rows, 400, "mlp(hidden = [4])")
    assert build.manifest.model.cp is not None and build.manifest.model.cp.networks == 1
    assert 400 * 400 > solver_table.NETWORK_CP_LIMIT
    assert solver_table.default_for(build.manifest) == "cbc"


@pytest.mark.requires_solver("gecode")
def test_a_cp_model_of_one_pair_answers_as_enumeration(tmp_path):
    """With one pair, MiniZinc fixes the pair: the query's variables must survive it."""
    grid = [(a, b) for a in range(1, 41, 3) for b in range(1, 41, 3)]
    rows = [f"{a},{b},{(a - 13) ** 2 + 0.5 * b:.4f}" for a, b in grid]
    build = _one_pair(tmp_path, rows, 40, "tree(max_depth = 6)", "constraint time >= 20 s")
    assert build.manifest.model.cp is not None
    axis = np.arange(1, 41, dtype=float)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    predicted = build.estimator("algo", "small", "time").predict(grid)
    forget_proven()
    answer = solve_build(build, "gecode")
    assert answer.status == "OPTIMAL"
    assert answer.objective == float(predicted[predicted >= 20].min())
