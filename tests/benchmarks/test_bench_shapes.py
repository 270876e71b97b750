"""The enumerated shape against the MIP shape (solved by Gecode through its CP model) on
studies whose configurations could be enumerated: which is faster, compile and solve.

The study is test_bench_cp.py's transprecision-shaped one with 3 params (2 kernels on 3
platforms, 10,000 rows per file, time, memory and quality by `boosted(n_estimators = 15,
max_depth = 10)`, minimise time with quality >= 6, memory <= 200 MB, price * time <= 0.0008
EUR), each param's domain cut to its last n values (53-n..52, where the quality bound can
be met): 6 n^3 configurations. The enumerated shape is compiled with the enumeration limit
lifted where n^3 exceeds it, the MIP shape by `encoding = structure` on every target.
Measured: `hadac compile` in process (the same fitting in both shapes), then `hadac solve
BUILD --solver S --json --time-limit 120`, the whole command, median of 3, with Gecode
(through the CP model on the MIP shape), also for the same study with `mlp(hidden = [16])`
surrogates. Both shapes must give the same optimum.

Run with (about 11 minutes):
    .venv/bin/python -m pytest -n 0 tests/benchmarks/test_bench_shapes.py --benchmark-only \
        --benchmark-json=docs/benchmarks/shapes.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from test_bench_cp import solve_command, transprecision_spec

from hadac.compiler import compile_spec
from hadac.encode import model

SIZES = (10, 20, 26, 35, 49)  # values per param: 6,000 to 705,894 configurations
BOOSTED = "boosted(n_estimators = 15, max_depth = 10)"
MLP = "mlp(hidden = [16])"
CASES = [(BOOSTED, values) for values in SIZES] + [(MLP, 49)]
RESULTS: dict[tuple[str, int], float] = {}


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shapes")
    return transprecision_spec(folder, 3)


def _spec(study: Path, kind: str, values: int, shape: str) -> Path:
    text = study.read_text().replace("int in 4..52", f"int in {53 - values}..52")
    text = text.replace(BOOSTED, kind)
    if shape == "mip":
        text = text.replace(kind, kind[:-1] + ", encoding = structure)")
    path = study.with_name(f"shape-{kind.split('(')[0]}-{shape}-{values}.hada")
    path.write_text(text)
    return path


@pytest.mark.requires_solver("gecode", where="native")
@pytest.mark.parametrize(("kind", "values"), CASES, ids=lambda x: str(x).split("(")[0])
@pytest.mark.parametrize("shape", ["enumerated", "mip"])
def test_compile_and_solve(benchmark, study, kind, values, shape, monkeypatch):
    monkeypatch.setattr(model, "ENUMERATION_LIMIT", 10**7)
    spec = _spec(study, kind, values, shape)
    started = time.perf_counter()
    build = compile_spec(spec, spec.with_suffix("")).directory
    compiled = time.perf_counter() - started
    manifest = json.loads((build / "manifest.json").read_text())
    assert manifest["model"]["shape"] == shape
    solver = "gecode"
    answer = benchmark.pedantic(solve_command(build, solver), rounds=3, iterations=1)
    size = sum(f.stat().st_size for f in build.iterdir() if f.is_file())
    benchmark.extra_info.update(
        {
            "surrogate": kind,
            "shape": shape,
            "solver": solver,
            "values_per_param": values,
            "configurations": 6 * values**3,
            "compile_s": compiled,
            "build_bytes": size,
            "status": answer["status"],
            "objective": answer["objective"],
        }
    )
    if answer["status"] != "OPTIMAL":
        pytest.skip(f"{solver} proved no optimum in 120 s: {answer['status']}")
    other = RESULTS.setdefault((kind, values), answer["objective"])
    assert answer["objective"] == pytest.approx(other, rel=1e-12)
