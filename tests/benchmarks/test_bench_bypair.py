"""One model against one solve per pair: `hadac solve BUILD --solver S [--by-pair]` on the
MIP build of specs/transprecision.hada (2 algorithms x 3 platforms, 3 int params in 4..52:
705,894 configurations; boosted trees), wall time of the whole command, median of 3.

Run with: .venv/bin/python -m pytest -n 0 tests/benchmarks/test_bench_bypair.py --benchmark-only
Both forms must give the same optimum.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from hadac.compiler import compile_spec

HADAC = Path(sys.executable).with_name("hadac")
RESULTS: dict[str, float] = {}


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    spec = REPO / "specs" / "transprecision.hada"
    return compile_spec(spec, tmp_path_factory.mktemp("b") / "transprecision").directory


@pytest.mark.parametrize("form", ["one-model", "by-pair"])
@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_solve_command(benchmark, build, solver, form, require_solver):
    where = require_solver(solver)
    command = [str(HADAC), "solve", str(build), "--solver", solver, "--json"]
    command += ["--by-pair" if form == "by-pair" else "--one-model"]

    def solve() -> dict:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    answer = benchmark.pedantic(solve, rounds=3, iterations=1)
    assert answer["status"] == "OPTIMAL"
    other = RESULTS.setdefault(solver, answer["objective"])
    assert answer["objective"] == pytest.approx(other, rel=1e-6)
    benchmark.extra_info.update(
        {"solver": solver, "where": where.where, "form": form, "objective": answer["objective"]}
    )
