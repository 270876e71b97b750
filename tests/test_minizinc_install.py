"""Checks the MiniZinc tool chains that scripts/install-minizinc.sh installs.

Runs real MiniZinc: the native binary ($HADAC_HOME/minizinc-native/bin/minizinc)
and the bundled WebAssembly build behind hadac's Node launcher
($HADAC_HOME/bundled/bin/minizinc). Each test is skipped when the tool chain
it needs is not installed.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

minizinc = pytest.importorskip("minizinc")

HADAC_HOME = Path(os.environ.get("HADAC_HOME", "/opt/hadac"))
NATIVE = HADAC_HOME / "minizinc-native" / "bin" / "minizinc"
BUNDLED = HADAC_HOME / "bundled" / "bin" / "minizinc"
REPO_LAUNCHER = Path(__file__).resolve().parent.parent / "hadac" / "launcher" / "minizinc.js"
INSTALL_HINT = "run scripts/install-minizinc.sh"

TINY = "var 1..10: x; var 1..10: y; constraint x + y >= 7; solve minimize 3*x + 2*y;"
# 3x + 2y = 2(x + y) + x >= 2*7 + 1, reached at x = 1, y = 6.
TINY_OPTIMUM = 15

# A 0/1 knapsack: the all-zero first solution comes at once and is improved
# step by step, but Gecode's default search takes far longer than these tests
# to prove optimality.
HARD = """
int: n = 60;
array[1..n] of var 0..1: x;
constraint sum(i in 1..n)(((i * 37) mod 23 + 5) * x[i]) <= 300;
solve maximize sum(i in 1..n)(((i * 53) mod 31 + 3) * x[i]);
"""

NATIVE_SOLVERS = ["gecode", "cbc"]
BUNDLED_SOLVERS = ["gecode", "cbc", "highs", "chuffed"]


def _require(path: Path) -> None:
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not installed ({INSTALL_HINT})")


@pytest.fixture(scope="module")
def native_driver():
    _require(NATIVE)
    return minizinc.Driver(NATIVE)


@pytest.fixture(scope="module")
def bundled_driver():
    _require(BUNDLED)
    return minizinc.Driver(BUNDLED)


@pytest.fixture
def hard_model(tmp_path: Path) -> Path:
    path = tmp_path / "hard_knapsack.mzn"
    path.write_text(HARD)
    return path


def _names(driver) -> set[str]:
    return set(driver.available_solvers(refresh=True))


def _solve_tiny(driver, tag: str):
    solver = minizinc.Solver.lookup(tag, driver=driver)
    model = minizinc.Model()
    model.add_string(TINY)
    return minizinc.Instance(solver, model, driver=driver).solve()


# --- solver lists -------------------------------------------------------------


def test_native_lists_gecode_and_cbc(native_driver):
    names = _names(native_driver)
    assert {"gecode", "cbc", "coin-bc"} <= names, sorted(names)


def test_bundled_lists_gecode_cbc_highs_chuffed(bundled_driver):
    names = _names(bundled_driver)
    assert {"gecode", "cbc", "coin-bc", "highs", "chuffed"} <= names, sorted(names)


# --- solving through the Python package ---------------------------------------


@pytest.mark.parametrize("tag", NATIVE_SOLVERS)
def test_native_solves_tiny_model(native_driver, tag):
    result = _solve_tiny(native_driver, tag)
    assert result.status == minizinc.Status.OPTIMAL_SOLUTION
    assert result.objective == TINY_OPTIMUM
    assert (result["x"], result["y"]) == (1, 6)


@pytest.mark.parametrize("tag", BUNDLED_SOLVERS)
def test_bundled_solves_tiny_model(bundled_driver, tag):
    result = _solve_tiny(bundled_driver, tag)
    assert result.status == minizinc.Status.OPTIMAL_SOLUTION
    assert result.objective == TINY_OPTIMUM
    assert (result["x"], result["y"]) == (1, 6)


def test_bundled_solves_with_data(bundled_driver):
    # Data assigned on the instance reaches MiniZinc as a temporary data file.
    solver = minizinc.Solver.lookup("highs", driver=bundled_driver)
    model = minizinc.Model()
    model.add_string(
        "int: n; var 1..10: x; var 1..10: y; constraint x + y >= n; solve minimize 3*x + 2*y;"
    )
    instance = minizinc.Instance(solver, model, driver=bundled_driver)
    instance["n"] = 9
    assert instance.solve().objective == 19


def test_bundled_accepts_the_python_packages_solve_options(bundled_driver):
    # -p cannot use threads in WebAssembly; the launcher runs single-threaded.
    solver = minizinc.Solver.lookup("gecode", driver=bundled_driver)
    model = minizinc.Model()
    model.add_string(TINY)
    instance = minizinc.Instance(solver, model, driver=bundled_driver)
    result = instance.solve(processes=2, random_seed=1, optimisation_level=2)
    assert result.objective == TINY_OPTIMUM


def test_bundled_time_limit_returns_best_found(bundled_driver):
    solver = minizinc.Solver.lookup("gecode", driver=bundled_driver)
    model = minizinc.Model()
    model.add_string(HARD)
    instance = minizinc.Instance(solver, model, driver=bundled_driver)
    start = time.monotonic()
    result = instance.solve(time_limit=timedelta(seconds=3))
    elapsed = time.monotonic() - start
    assert elapsed < 10, f"took {elapsed:.1f} s with a 3 s limit"
    assert result.status == minizinc.Status.SATISFIED
    assert result.objective is not None and result.objective > 0


# --- the launcher's command line ----------------------------------------------


def _launcher_env() -> dict[str, str]:
    return {**os.environ, "HADAC_HOME": str(HADAC_HOME)}


def test_bundled_cached_answers_match_the_webassembly(bundled_driver):
    # The repository's launcher has no cache next to it, so it asks the
    # WebAssembly build itself; the installed one answers from its cache.
    if not REPO_LAUNCHER.exists():
        pytest.skip("launcher source not found")
    for args in (["--version"], ["--solvers-json"]):
        live = subprocess.run(
            ["node", str(REPO_LAUNCHER), *args],
            capture_output=True,
            text=True,
            env=_launcher_env(),
            check=True,
        ).stdout
        cached = subprocess.run(
            [str(BUNDLED), *args], capture_output=True, text=True, check=True
        ).stdout
        if args == ["--solvers-json"]:
            assert json.loads(live) == json.loads(cached)
        else:
            assert live == cached
            assert re.search(r"version \d+\.\d+\.\d+", cached)


def test_bundled_copies_included_files_and_output_files(bundled_driver, tmp_path):
    work = tmp_path / "a dir"
    (work / "lib").mkdir(parents=True)
    (work / "model.mzn").write_text(
        'include "lib/pred.mzn";\nvar 1..10: x; var 1..10: y; constraint at_least(x, y);\n'
        "solve minimize 3*x + 2*y;\n"
    )
    (work / "lib" / "pred.mzn").write_text(
        'include "../limit.mzn";\npredicate at_least(var int: a, var int: b) = a + b >= n;\n'
    )
    (work / "limit.mzn").write_text("int: n;\n")
    (work / "data.dzn").write_text("n = 7;\n")
    out = work / "result.txt"
    run = subprocess.run(
        [str(BUNDLED), "--solver", "highs", "-o", str(out), "model.mzn", "data.dzn"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert out.read_text().splitlines()[:2] == ["x = 1;", "y = 6;"]


def test_bundled_reads_solver_configuration_files(bundled_driver, tmp_path):
    solvers = json.loads(
        subprocess.run([str(BUNDLED), "--solvers-json"], capture_output=True, check=True).stdout
    )
    highs = next(s for s in solvers if s["id"].endswith("highs"))
    highs.pop("extraInfo", None)
    config = tmp_path / "my highs.msc"
    config.write_text(json.dumps(highs))
    model = tmp_path / "tiny.mzn"
    model.write_text(TINY)
    run = subprocess.run(
        [str(BUNDLED), "--solver", str(config), "-v", str(model)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "HiGHS" in run.stdout + run.stderr  # -v: the solver's own log
    assert "x = 1;\ny = 6;\n----------\n==========" in run.stdout


def test_bundled_reports_errors_with_host_paths(bundled_driver, tmp_path):
    model = tmp_path / "broken.mzn"
    model.write_text("var 1..3: x;\nconstraint x > y;\n")
    run = subprocess.run(
        [str(BUNDLED), "--json-stream", str(model)], capture_output=True, text=True
    )
    assert run.returncode != 0
    errors = [json.loads(line) for line in run.stdout.splitlines() if '"error"' in line]
    assert errors and errors[0]["location"]["filename"] == str(model)


def _start_streaming(model: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BUNDLED),
            "--solver",
            "gecode",
            "-a",
            "--json-stream",
            "--output-mode",
            "json",
            *extra,
            str(model),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,  # unbuffered, so select() sees every line
    )


def _next_line(proc: subprocess.Popen, timeout: float) -> bytes:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline() if ready else b""


def _wait_for_solution(proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = _next_line(proc, deadline - time.monotonic())
        if not line:
            break
        if json.loads(line).get("type") == "solution":
            return
    proc.kill()
    pytest.fail("no solution was streamed while the solver ran")


def test_bundled_streams_solutions_and_honours_time_limit(bundled_driver, hard_model):
    start = time.monotonic()
    proc = _start_streaming(hard_model, "--time-limit", "4000")
    try:
        _wait_for_solution(proc)
        first_solution = time.monotonic() - start
        proc.stdout.read()
        proc.wait(timeout=15)
    finally:
        proc.kill()
        proc.wait()
    total = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr.read()
    assert total < 12, f"took {total:.1f} s with a 4 s limit"
    # Streamed as found, not all at exit.
    assert total - first_solution > 1, (first_solution, total)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            cmdline = (
                (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        except OSError:
            continue
        if text in cmdline:
            found.append(int(proc_dir.name))
    return found


def _children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_bundled_signal_stops_everything(bundled_driver, hard_model, sig):
    proc = _start_streaming(hard_model)
    try:
        _wait_for_solution(proc)
        # The wrapper execs node, which runs MiniZinc in a thread, not a child.
        assert _children_of(proc.pid) == []
        assert _processes_mentioning(str(hard_model)) == [proc.pid]
        sent = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=5)
        assert time.monotonic() - sent < 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig
    assert _processes_mentioning(str(hard_model)) == []
