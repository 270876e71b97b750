"""Compile and solve time as surrogates grow, for each encoding and solver.

Run with:
    .venv/bin/python -m pytest -n 0 tests/benchmarks/test_bench_scaling.py --benchmark-only \
        --benchmark-json=docs/benchmarks/scaling.json

One algorithm with two int params (1..40 each: 1600 combinations) on two machines, two
targets of the kind under test, minimise one under a bound on the other. `table` compiles to
the enumerated model (every solver); `structure` to the MIP model (cbc, highs). Solves stop
at 120 s; a solve that hits the limit is recorded as such.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import solver_missing

from hadac import solvers as solver_table
from hadac.builddir import BuildDir
from hadac.compiler import compile_spec
from hadac.solve import solve_build

LIMIT = 120.0
CASES = {
    "tree-4": "tree(max_depth = 4)",
    "tree-8": "tree(max_depth = 8)",
    "tree-12": "tree(max_depth = 12)",
    "tree-16": "tree(max_depth = 16)",
    "forest-10": "forest(n_estimators = 10, max_depth = 8)",
    "forest-50": "forest(n_estimators = 50, max_depth = 8)",
    "forest-100": "forest(n_estimators = 100, max_depth = 8)",
    "mlp-8": "mlp(hidden = [8])",
    "mlp-32": "mlp(hidden = [32])",
    "mlp-64": "mlp(hidden = [64])",
    "mlp-8x8": "mlp(hidden = [8, 8])",
    "mlp-32x32": "mlp(hidden = [32, 32])",
    "mlp-64x64": "mlp(hidden = [64, 64])",
}
# The structure encoding is the MIP model, which only MIP solvers take.
SOLVERS = {"table": ["cbc", "highs", "gecode"], "structure": list(solver_table.of_family("MIP"))}


def _data(folder):
    rng = np.random.default_rng(5)
    for machine, speed in (("small", 1.0), ("large", 2.5)):
        rows = ["a,b,time,memory"]
        for a in range(1, 41):
            for b in range(1, 41):
                time_ = (a * np.log1p(b) + 0.02 * a * b) / speed * rng.lognormal(0, 0.1)
                memory = 20 + 3 * a + 2 * b * speed + rng.normal(0, 2)
                rows.append(f"{a},{b},{time_:.6g},{memory:.6g}")
        (folder / f"algo_{machine}.csv").write_text("\n".join(rows) + "\n")


def _spec(folder, kind: str, encoding: str) -> str:
    inner = kind[kind.index("(") + 1 : -1] if "(" in kind else ""
    name = kind.split("(")[0]
    args = ", ".join(x for x in (inner, f"encoding = {encoding}") if x)
    text = f"""spec scaling
hardware small {{ cores = 1 }}
hardware large {{ cores = 4 }}
algorithm algo {{
  param a: int in 1..40
  param b: int in 1..40
  data small = "algo_small.csv"
  data large = "algo_large.csv"
}}
target time   = "time"   in s  ~ {name}({args})
target memory = "memory" in MB ~ {name}({args})
minimize time
constraint memory <= 90 MB
constraint time >= 5 s
"""
    path = folder / f"{name}-{encoding}.hada"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("scaling")
    _data(path)
    return path


@pytest.mark.parametrize("encoding", ["table", "structure"])
@pytest.mark.parametrize("case", list(CASES))
def test_compile_and_solve(benchmark, folder, case, encoding):
    spec = _spec(folder, CASES[case], encoding)
    out = folder / f"build-{case}-{encoding}"
    build = benchmark.pedantic(lambda: compile_spec(spec, out), rounds=1, iterations=1)
    info = {"case": case, "encoding": encoding, "compile_s": benchmark.stats.stats.max}
    info["model_kb"] = round(
        (build.directory / "model.mzn").stat().st_size / 1024
        + (build.directory / "data.json").stat().st_size / 1024
    )
    sizes = [s.size for s in BuildDir(build.directory).manifest.surrogates]
    info["binaries"] = sum(s.get("binaries", s.get("table_rows", 0)) for s in sizes)
    objectives = set()
    for solver in SOLVERS[encoding]:
        missing = solver_missing(solver)
        if missing is not None:  # recorded, so that a table without this solver says why
            info[f"{solver}_status"] = missing
            continue
        started = time.perf_counter()
        answer = solve_build(BuildDir(build.directory), solver, time_limit=LIMIT)
        wall = time.perf_counter() - started
        info[f"{solver}_s"] = round(wall, 3)
        info[f"{solver}_status"] = answer.status
        if answer.status == "OPTIMAL":
            objectives.add(round(answer.objective, 9))
    benchmark.extra_info.update(info)
    assert len(objectives) <= 1, objectives


# The tree encodings side by side on the cases: wall time of the whole command
# `hadac solve BUILD --solver cbc`, 3 rounds (pytest-benchmark's median is the figure).
ENCODING_CASES = {
    "forest-100": "forest(n_estimators = 100, max_depth = 8)",
    "boosted-50": "boosted(n_estimators = 50, max_depth = 8)",
}


@pytest.mark.requires_solver("cbc")
@pytest.mark.parametrize("encoding", ["leaves", "splits"])
@pytest.mark.parametrize("case", list(ENCODING_CASES))
def test_tree_encoding_solve_command(benchmark, folder, case, encoding):
    spec = _spec(folder, ENCODING_CASES[case], encoding)
    build = compile_spec(spec, folder / f"command-{case}-{encoding}")
    command = [
        sys.executable,
        "-m",
        "hadac",
        "solve",
        str(build.directory),
        "--solver",
        "cbc",
        "--time-limit",
        str(int(LIMIT)),
    ]
    statuses = []

    def solve() -> None:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        statuses.append(done.stdout.split(" ", 1)[0] if done.stdout else f"exit {done.returncode}")

    benchmark.pedantic(solve, rounds=3, iterations=1)
    sizes = [s.size for s in build.manifest.surrogates]
    benchmark.extra_info.update(
        {"case": case, "encoding": encoding, "statuses": statuses, "sizes": sizes}
    )
    assert statuses and all(s in ("OPTIMAL", "FEASIBLE", "UNKNOWN") for s in statuses), statuses
