"""Start-up: the wall time of whole commands a user types most, median of 10 runs.

Run with: .venv/bin/python -m pytest -n 0 tests/benchmarks/test_bench_startup.py --benchmark-only
Each round is the installed `hadac` script run as a new process: interpreter start, imports,
the command's work. Targets (docs/performance.md): `hadac --help` 0.3 s, `hadac check
specs/tiny.hada` 0.8 s, `hadac solve build/tiny --solver gecode` 1.5 s.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from hadac.compiler import compile_spec

HADAC = Path(sys.executable).with_name("hadac")


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory) -> Path:
    return compile_spec(
        REPO / "specs" / "tiny.hada", tmp_path_factory.mktemp("b") / "tiny"
    ).directory


COMMANDS = {
    "help": ["--help"],
    "check": ["check", str(REPO / "specs" / "tiny.hada")],
    "solve-gecode": ["solve", "{build}", "--solver", "gecode"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_wall_time(benchmark, name, tiny_build, require_solver):
    if not HADAC.exists() and shutil.which("hadac") is None:
        pytest.skip("the hadac script is not installed beside this python")
    if name.startswith("solve"):
        require_solver("gecode", None)
    command = [str(HADAC), *(a.format(build=tiny_build) for a in COMMANDS[name])]

    def run():
        subprocess.run(command, check=True, capture_output=True, cwd=REPO)

    benchmark.extra_info.update({"command": " ".join(command[1:])})
    benchmark.pedantic(run, rounds=10, warmup_rounds=1)
