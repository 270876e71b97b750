"""The DESIGN.md example on the reference data: compile (fitting included) and solve.

Run with: .venv/bin/python -m pytest -n 0 tests/benchmarks/test_bench_contract.py --benchmark-only
Both are measured in process, after imports: compile reads the four CSVs, fits 16 depth-10
trees, tabulates them and writes the build directory; solve runs MiniZinc with native
COIN-BC (or the solver named) and verifies the answer with the saved trees.
"""

from __future__ import annotations

import pytest

from hadac import runtime
from hadac import solvers as solver_table
from hadac.builddir import BuildDir
from hadac.compiler import compile_spec
from hadac.solve import forget_proven, solve_build

OPTIMUM = 1.268945775619698e-05  # kg, the fitted trees' optimum, by enumeration


def test_compile(benchmark, contract_spec, tmp_path):
    build = benchmark.pedantic(
        lambda: compile_spec(contract_spec, tmp_path / "energy"), rounds=5, warmup_rounds=1
    )
    assert build.encoded.configurations == 400


@pytest.mark.requires_solver
@pytest.mark.parametrize("solver", solver_table.names())
def test_solve(benchmark, contract_spec, tmp_path, solver):
    info = runtime.solver_info(solver)
    build = BuildDir(compile_spec(contract_spec, tmp_path / "energy").directory)
    answer = benchmark.pedantic(
        lambda: solve_build(build, solver), setup=forget_proven, rounds=5, warmup_rounds=1
    )
    benchmark.extra_info.update({"solver": solver, "where": info.where, "version": info.version})
    assert answer.objective == pytest.approx(OPTIMUM, rel=1e-9)
