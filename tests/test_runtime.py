"""The solver runtime: time limits and Ctrl-C stop the solver and keep the best solution."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import descendants

from hadac import runtime

# A Golomb ruler: optimising it takes far longer than the limits used here, and the first
# solutions come at once.
HARD = """
int: n = 11;
array[1..n] of var 0..n*n: mark;
array[1..(n*(n-1)) div 2] of var 1..n*n: differences =
    [mark[j] - mark[i] | i in 1..n, j in i+1..n];
constraint mark[1] = 0;
constraint forall(i in 1..n-1)(mark[i] < mark[i+1]);
constraint forall(i in 1..length(differences), j in i+1..length(differences))(
    differences[i] != differences[j]);
solve minimize mark[n];
"""


@pytest.fixture
def hard_model(tmp_path):
    path = tmp_path / "golomb.mzn"
    path.write_text(HARD)
    return path


@pytest.mark.requires_solver("gecode")
def test_time_limit_reports_best_solution_as_feasible(hard_model):
    started = time.perf_counter()
    result = runtime.solve([hard_model], "gecode", time_limit=3.0)
    elapsed = time.perf_counter() - started
    assert result.status == "FEASIBLE"
    assert result.values["objective"] > 0
    assert elapsed < 30  # the limit stopped it: optimising n = 11 takes minutes


@pytest.mark.parametrize("where", ["native", "bundled"])
def test_ctrl_c_stops_the_solver_and_keeps_the_best_solution(
    hard_model, where, monkeypatch, require_solver
):
    monkeypatch.setenv("HADAC_MINIZINC", where)
    runtime.solvers.cache_clear()
    try:
        info = require_solver("gecode", where)
    finally:
        runtime.solvers.cache_clear()
    assert info.where == where
    script = textwrap.dedent(
        f"""
        import signal
        from hadac import runtime
        # A shell without job control starts background commands with SIGINT ignored;
        # take it back, as an interactive terminal would have it.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print("started", flush=True)
        result = runtime.solve(
            [{str(hard_model)!r}], "gecode", on_solution=lambda v: print("solution", flush=True)
        )
        print(result.status, result.interrupted, result.values.get("objective"), flush=True)
        """
    )
    env = {**os.environ, "HADAC_MINIZINC": where}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout.readline().strip() == "started"
    assert proc.stdout.readline().strip() == "solution"  # the first one has come
    spawned = descendants(proc.pid)
    assert spawned, "the solver process never started"
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    status, interrupted, objective = output.split()[-3:]
    assert (status, interrupted) == ("FEASIBLE", "True")
    assert int(objective) > 0
    time.sleep(0.5)
    alive = [pid for pid in spawned if os.path.exists(f"/proc/{pid}")]
    zombies_only = all(
        open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] == "Z" for pid in alive
    )
    assert not alive or zombies_only, f"solver processes left running: {alive}"
