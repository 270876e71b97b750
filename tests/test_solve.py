"""Solving: every spec with every solver on every driver gives the enumerated optimum.

The optimum is computed here independently of the compiler: every (algorithm, hardware,
param values) is predicted with the saved estimators and the spec's objective and
constraints are written out by hand.
"""

from __future__ import annotations

import itertools
import json
import os

import joblib
import numpy as np
import pytest
from conftest import REPO

from hadac import runtime
from hadac.builddir import BuildDir
from hadac.errors import HadacError
from hadac.solve import solve_build

DOMAINS = {"anticipate": range(1, 21), "contingency": (1, 2, 4, 8, 16, 32)}
PAIRS = [
    ("anticipate", "laptop"),
    ("anticipate", "server"),
    ("anticipate", "cloud"),
    ("contingency", "laptop"),
    ("contingency", "server"),
]
PRICE = {"laptop": 0.10, "server": 1.20, "cloud": 0.45}  # EUR/h


def _spec_tiny(p, hw):
    feasible = p["time"] <= 30 and p["cost"] <= 310 and p["memory"] <= 200
    return feasible, p["emissions"]


def _spec_usage_cost(p, hw):
    feasible = p["emissions"] <= 60e-6 and p["cost"] + 5 <= 320 and p["time"] >= 2
    return feasible, PRICE[hw] * p["time"] / 3600


BY_HAND = {"tiny": _spec_tiny, "usage-cost": _spec_usage_cost, "structure": _spec_tiny}
MIP_ONLY = {"structure"}


def enumerate_optimum(directory, spec) -> float:
    best = np.inf
    for algorithm, hardware in PAIRS:
        models = {
            target: joblib.load(directory / "models" / f"{algorithm}__{hardware}__{target}.joblib")
            for target in ("time", "cost", "memory", "emissions")
            if (directory / "models" / f"{algorithm}__{hardware}__{target}.joblib").exists()
        }
        for value in DOMAINS[algorithm]:
            predicted = {t: float(m.predict([[float(value)]])[0]) for t, m in models.items()}
            feasible, objective = BY_HAND[spec](predicted, hardware)
            if feasible:
                best = min(best, objective)
    return best


def _drivers():
    out = []
    for where in ("native", "bundled"):
        for solver in runtime.SOLVERS:
            out.append(pytest.param((where, solver), id=f"{where}-{solver}"))
    return out


@pytest.fixture
def driver(request, monkeypatch):
    where, solver = request.param
    monkeypatch.setenv("HADAC_MINIZINC", where)
    runtime.solvers.cache_clear()
    request.addfinalizer(runtime.solvers.cache_clear)
    info = next(s for s in runtime.solvers() if s.name == solver)
    if not info.available:
        pytest.skip(f"{solver} has no {where} MiniZinc here: {info.reason}")
    return where, solver


@pytest.mark.parametrize("spec", sorted(BY_HAND))
@pytest.mark.parametrize("driver", _drivers(), indirect=True)
def test_optimum_equals_enumeration(spec, driver, builds):
    where, solver = driver
    build = BuildDir(builds[spec].directory)
    if spec in MIP_ONLY and runtime.FAMILY[solver] == "CP":
        with pytest.raises(HadacError, match="is a CP solver"):
            solve_build(build, solver)
        return
    answer = solve_build(build, solver)
    assert answer.status == "OPTIMAL"
    assert answer.where == where
    expected = enumerate_optimum(build.directory, spec)
    assert answer.objective == pytest.approx(expected, rel=1e-6)
    assert all(row["holds"] for row in answer.constraints)


@pytest.mark.parametrize("solver", ["gecode", "cbc"])
def test_contract_example_solves_to_the_enumerated_optimum(solver, contract_spec, tmp_path):
    from hadac.compiler import compile_spec

    info = next(s for s in runtime.solvers() if s.name == solver)
    if not info.available:
        pytest.skip(f"{solver} unavailable: {info.reason}")
    build = BuildDir(compile_spec(contract_spec, tmp_path / "energy").directory)
    answer = solve_build(build, solver)
    assert answer.status == "OPTIMAL"
    # Enumerate with the saved trees: 2 algorithms x 2 machines x 100 param values.
    best = np.inf
    for algorithm, hardware in itertools.product(
        ("anticipate", "contingency"), ("mbp19", "leonardo")
    ):
        models = build.directory / "models"
        x = np.arange(1, 101, dtype=float).reshape(-1, 1)
        p = {
            t: joblib.load(models / f"{algorithm}__{hardware}__{t}.joblib").predict(x)
            for t in ("time", "cost", "memory", "emissions")
        }
        ok = (p["time"] <= 300) & (p["cost"] <= 350) & (p["memory"] <= 350)
        if ok.any():
            best = min(best, float(p["emissions"][ok].min()))
    assert answer.objective == pytest.approx(best, rel=1e-6)
    assert answer.objective == pytest.approx(1.268945775619698e-05, rel=1e-9)


def test_setup_provides_every_solver():
    """After scripts/setup.sh, gecode and cbc run natively and highs and chuffed bundled."""
    if not os.environ.get("CI"):
        pytest.skip("checked in CI, where scripts/setup.sh has just run")
    where = {s.name: s.where for s in runtime.solvers()}
    assert where == {"gecode": "native", "cbc": "native", "highs": "bundled", "chuffed": "bundled"}


def test_infeasible_spec_explains_each_constraint(tmp_path):
    from hadac.compiler import compile_spec

    spec = tmp_path / "tight.hada"
    source = (REPO / "specs" / "tiny.hada").read_text().replace('"data/', f'"{REPO}/specs/data/')
    spec.write_text(source.replace("constraint memory <= 200 MB", "constraint memory <= 40 MB"))
    build = BuildDir(compile_spec(spec, tmp_path / "build").directory)
    answer = solve_build(build, "gecode")
    assert answer.status == "INFEASIBLE"
    assert answer.exit_code == 2
    assert answer.point is None
    memory = [e for e in answer.explanations if e.startswith("memory <= 40 MB")]
    assert len(memory) == 1
    assert memory[0].startswith(
        "memory <= 40 MB cannot hold: the least memory that meets the other constraints is "
    )
    assert "(anticipate on laptop, nScenarios = " in memory[0]
    assert len(answer.explanations) == 3


def test_cli_solve_json(tmp_path, builds):
    from click.testing import CliRunner

    from hadac.cli import main

    result = CliRunner().invoke(
        main, ["solve", str(builds["tiny"].directory), "--solver", "gecode", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["format_version"] == 1
    assert payload["status"] == "OPTIMAL"
    assert set(payload["choice"]) == {"hardware", "algorithm", "params"}
    assert set(payload["predicted"]) == {"time", "cost", "memory", "emissions"}
    assert payload["verified"] is True
    assert {"compile", "flatten", "solve", "wall"} <= set(payload["timings"])
