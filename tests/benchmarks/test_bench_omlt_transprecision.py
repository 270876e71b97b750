"""hadac against OMLT + HiGHS on the transprecision-shaped 3-param study, same fitted models.

Run with (needs the `peers` extra: `pip install -e '.[test,peers]'`; the peer ran for over
26 minutes here):
    .venv/bin/python -m pytest -n 0 tests/benchmarks/test_bench_omlt_transprecision.py \
        --benchmark-only --benchmark-json=docs/benchmarks/omlt-transprecision.json

The study is test_bench_cp.py's `transprecision-3`: 2 kernels on 3 platforms, 3 int params
in 4..52 per kernel (705,894 configurations), time, memory and quality by
`boosted(n_estimators = 15, max_depth = 10)` (quality fitted once per kernel); minimise time
with quality >= 6, memory <= 200 MB and price * time <= 0.0008 EUR.

hadac: `hadac solve BUILD --solver S --json`, the whole command, median of 3, with native
Gecode (the build's CP model) and native COIN-BC (its MIP model).

The peer, in process, one round: load hadac's fitted estimators from the build, convert each
with skl2onnx (one `TreeEnsembleRegressor` node: the 15 trees, the learning rate folded into
the leaves, the initial prediction as `base_values`), and embed it with OMLT's
gradient-boosted-trees formulation (`GBTBigMFormulation`: Misic's shared split binaries and
a continuous weight per leaf) in one Pyomo model: per kernel its three integer params, per
(kernel, platform) a binary with exactly one chosen, time and memory blocks per pair and a
quality block per kernel fed by its kernel's params, each bound posted on the chosen pair
by big-M (M: the spread of the block's leaves), minimise the chosen pair's time (a variable
at least each pair's time less M when not chosen). Solved by HiGHS (`highspy` through
Pyomo's `appsi_highs`) with zero MIP gaps and a time limit. Its answer is read back and
re-evaluated by `predict` like hadac's: it must meet the bounds there, and when HiGHS proves
it optimal, equal hadac's verified optimum to 1e-6 relative.
"""

from __future__ import annotations

import logging
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from test_bench_cp import PRICES, solve_command, transprecision_spec

from hadac import onehot
from hadac.builddir import BuildDir
from hadac.compiler import compile_spec

_PEERS = "the `peers` extra is not installed (pip install -e '.[peers]')"
pyo = pytest.importorskip("pyomo.environ", reason=_PEERS)
omlt = pytest.importorskip("omlt", reason=_PEERS)
omlt_gbt = pytest.importorskip("omlt.gbt", reason=_PEERS)
skl2onnx = pytest.importorskip("skl2onnx", reason=_PEERS)
pytest.importorskip("highspy", reason=_PEERS)

from skl2onnx.common.data_types import FloatTensorType  # noqa: E402

PARAMS = 3
DOMAIN = (4, 52)
TARGETS = ("time", "memory", "quality")
QUALITY_AT_LEAST, MEMORY_AT_MOST, PRICE_TIME_AT_MOST = 6.0, 200.0, 0.0008  # -, MB, EUR
HIGHS_TIME_LIMIT = 300.0  # s
TOLERANCE = 1e-6
RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("omlt-transprecision")
    return compile_spec(transprecision_spec(folder, PARAMS), folder / "build").directory


@pytest.mark.parametrize("solver", ["gecode", "cbc"])
def test_hadac_solve_command(benchmark, build, solver, require_solver):
    where = require_solver(solver, where="native")
    answer = benchmark.pedantic(solve_command(build, solver), rounds=3, iterations=1)
    benchmark.extra_info.update(
        {"solver": solver, "where": where.where, "status": answer["status"]}
        | {"objective": answer["objective"], "choice": answer["choice"]}
    )
    if answer["status"] == "OPTIMAL":
        RESULTS.setdefault("hadac", answer)


def _onnx(estimator):
    model, _ = onehot.unwrap(estimator)
    return skl2onnx.convert_sklearn(
        model,
        initial_types=[("x", FloatTensorType([None, PARAMS]))],
        target_opset={"": 17, "ai.onnx.ml": 3},
    )


def _leaf_range(gbt_onnx) -> tuple[float, float]:
    """Bounds of the ensemble's output: its base value plus each tree's extreme leaves."""
    (node,) = gbt_onnx.graph.node
    attributes = {a.name: a for a in node.attribute}
    import onnx

    weights = onnx.helper.get_attribute_value(attributes["target_weights"])
    trees = onnx.helper.get_attribute_value(attributes["target_treeids"])
    base = attributes.get("base_values")
    low = high = float(onnx.helper.get_attribute_value(base)[0]) if base else 0.0
    by_tree: dict[int, list[float]] = {}
    for tree, weight in zip(trees, weights, strict=True):
        by_tree.setdefault(tree, []).append(float(weight))
    for values in by_tree.values():
        low, high = low + min(values), high + max(values)
    return low, high


def build_omlt(manifest, estimators: dict):
    """The study's question as one Pyomo model with an OMLT GBT block per fitted model."""
    pairs = [(p.algorithm, p.hardware) for p in manifest.pairs]
    algorithms = list(dict.fromkeys(a for a, _ in pairs))
    m = pyo.ConcreteModel()
    m.x = pyo.Var(algorithms, range(PARAMS), domain=pyo.Integers, bounds=DOMAIN)
    m.choose = pyo.Var(range(len(pairs)), domain=pyo.Binary)
    m.one = pyo.Constraint(expr=sum(m.choose[p] for p in range(len(pairs))) == 1)
    blocks = {}  # (algorithm, hardware or None, target) -> the OMLT block's output
    m.blocks = pyo.Block(range(len(estimators)))
    ranges = {}
    logging.getLogger("pyomo.core").setLevel(logging.ERROR)  # OMLT's 0 start values
    for i, (key, estimator) in enumerate(sorted(estimators.items(), key=str)):
        gbt_onnx = _onnx(estimator)
        ranges[key] = _leaf_range(gbt_onnx)
        block = m.blocks[i].gbt = omlt.OmltBlock()
        bounds = {j: DOMAIN for j in range(PARAMS)}
        block.build_formulation(
            omlt_gbt.GBTBigMFormulation(
                omlt_gbt.GradientBoostedTreeModel(gbt_onnx, scaled_input_bounds=bounds)
            )
        )
        algorithm = key[0]
        m.blocks[i].feed = pyo.Constraint(
            range(PARAMS), rule=lambda b, j, a=algorithm, blk=block: blk.inputs[j] == m.x[a, j]
        )
        blocks[key] = block.outputs[0]
    m.bounds = pyo.ConstraintList()
    span = {t: max(r[1] for k, r in ranges.items() if k[2] == t) for t in TARGETS}
    floor = {t: min(r[0] for k, r in ranges.items() if k[2] == t) for t in TARGETS}
    big = {t: span[t] - floor[t] + 1.0 for t in TARGETS}
    m.time = pyo.Var(bounds=(floor["time"], span["time"]))
    for p, (algorithm, hardware) in enumerate(pairs):
        off = 1 - m.choose[p]
        time_, memory = (blocks[(algorithm, hardware, t)] for t in ("time", "memory"))
        quality = blocks.get(
            (algorithm, None, "quality"), blocks.get((algorithm, hardware, "quality"))
        )
        seconds = PRICE_TIME_AT_MOST * 3600 / PRICES[hardware]
        m.bounds.add(time_ <= seconds + big["time"] * off)
        m.bounds.add(memory <= MEMORY_AT_MOST + big["memory"] * off)
        m.bounds.add(quality >= QUALITY_AT_LEAST - big["quality"] * off)
        m.bounds.add(m.time >= time_ - big["time"] * off)
    m.goal = pyo.Objective(expr=m.time, sense=pyo.minimize)
    return m, pairs


def test_omlt_highs(benchmark, build):
    built = BuildDir(build)
    manifest = built.manifest
    estimators = {}
    for s in manifest.surrogates:
        key = (s.algorithm, None if s.shared else s.hardware, s.target)
        estimators[key] = built.estimator(s.algorithm, s.hardware, s.target)
    figures: dict = {}

    def run() -> None:
        started = time.perf_counter()
        m, pairs = build_omlt(manifest, estimators)
        formulated = time.perf_counter()
        print(f"\nOMLT + Pyomo model built in {formulated - started:.1f} s", flush=True)
        solver = pyo.SolverFactory("appsi_highs")
        solver.config.time_limit = HIGHS_TIME_LIMIT
        solver.config.load_solution = False
        solver.highs_options = {"mip_rel_gap": 0.0, "mip_abs_gap": 0.0}
        result = solver.solve(m)
        solved = time.perf_counter()
        figures.update(
            formulate_s=formulated - started,
            solve_s=solved - formulated,
            end_to_end_s=solved - started,
            termination=str(result.termination_condition),
            variables=sum(1 for _ in m.component_data_objects(pyo.Var)),
            binaries=sum(v.is_binary() for v in m.component_data_objects(pyo.Var)),
            constraints=sum(1 for _ in m.component_data_objects(pyo.Constraint)),
        )
        if result.best_feasible_objective is not None:
            result.solution_loader.load_vars()
            chosen = [p for p in range(len(pairs)) if pyo.value(m.choose[p]) > 0.5]
            algorithm, hardware = pairs[chosen[0]]
            x = np.array([[round(pyo.value(m.x[algorithm, j])) for j in range(PARAMS)]], float)
            predicted = {
                t: float(built.estimator(algorithm, hardware, t).predict(x)[0]) for t in TARGETS
            }
            figures.update(
                choice=(algorithm, hardware, *x[0].tolist()),
                solver_objective=pyo.value(m.goal),
                predicted=predicted,
                best_bound=result.best_objective_bound,
            )

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(
        {"tool": "OMLT GBTBigMFormulation + HiGHS (appsi_highs), in process"}
        | {"versions": {n: version(n) for n in ("omlt", "pyomo", "skl2onnx", "highspy")}}
        | figures
        | {"hadac": {k: RESULTS.get("hadac", {}).get(k) for k in ("objective", "choice")}}
    )
    print(f"\nOMLT + HiGHS: {figures}")
    if "predicted" in figures:
        algorithm, hardware = figures["choice"][:2]
        predicted = figures["predicted"]
        price = PRICES[hardware] * predicted["time"] / 3600
        assert predicted["memory"] <= MEMORY_AT_MOST and predicted["quality"] >= QUALITY_AT_LEAST
        assert price <= PRICE_TIME_AT_MOST
        if figures["termination"].endswith("optimal") and "hadac" in RESULTS:
            hadac = RESULTS["hadac"]["objective"]
            assert abs(predicted["time"] - hadac) <= TOLERANCE * abs(hadac)
