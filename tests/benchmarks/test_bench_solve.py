"""`hadac solve` wall time per solver and MiniZinc driver, on the bundled example.

Run with: .venv/bin/python -m pytest -n 0 tests/benchmarks --benchmark-only
Each round is a whole command (`python -m hadac solve BUILD --solver S`), as a user
runs it: interpreter start, imports, MiniZinc, verification.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO

from hadac import runtime
from hadac import solvers as solver_table
from hadac.compiler import compile_spec


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    return compile_spec(
        REPO / "specs" / "tiny.hada", tmp_path_factory.mktemp("b") / "tiny"
    ).directory


@pytest.mark.parametrize("where", ["native", "bundled"])
@pytest.mark.parametrize("solver", solver_table.names())
def test_solve_wall_time(benchmark, tiny_build, solver, where, monkeypatch, require_solver):
    monkeypatch.setenv("HADAC_MINIZINC", where)
    runtime.solvers.cache_clear()
    try:
        info = require_solver(solver, where)
    finally:
        runtime.solvers.cache_clear()
    env = {**os.environ, "HADAC_MINIZINC": where}
    command = [sys.executable, "-m", "hadac", "solve", str(tiny_build), "--solver", solver]

    def run():
        subprocess.run(command, check=True, capture_output=True, env=env)

    benchmark.extra_info.update({"solver": solver, "where": where, "version": info.version})
    benchmark.pedantic(run, rounds=3, warmup_rounds=1)
