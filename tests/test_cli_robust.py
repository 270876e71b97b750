"""Command-line values, outputs and interruptions: clear messages and exit codes, no crash."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import descendants

from hadac import cli
from hadac.cli import main

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "specs" / "tiny.hada"


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("value", ["inf", "nan", "1e308", "0.0004", "0", "-1", "soon"])
def test_time_limits_that_are_no_limit_are_refused(value: str, tmp_path: Path):
    result = run("solve", TINY, "-o", tmp_path / "b", "--time-limit", value)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--time-limit'" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "b").exists()


def test_an_unwritable_output_is_a_clear_error(tmp_path: Path):
    for args in (("compile", TINY), ("pareto", TINY, "--objectives", "emissions,time")):
        result = run(*args, "-o", "/proc/hadac-test")
        assert result.exit_code == 1, result.output
        assert "cannot write the build /proc/hadac-test" in result.output
        assert "internal error" not in result.output


def test_show_keeps_units_that_look_like_markup(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(cli.out, "width", 140)  # whatever width the test process inherited
    assert run("compile", TINY, "-o", tmp_path / "b").exit_code == 0
    shown = run("show", tmp_path / "b")
    assert shown.exit_code == 0, shown.output
    for unit in ("time [s]", "cost [kEUR]", "emissions [kg]"):
        assert unit in shown.output


def test_pareto_of_an_infeasible_spec_exits_2(tmp_path: Path):
    spec = tmp_path / "tiny.hada"
    spec.write_text(TINY.read_text().replace("<= 30 s", "<= 0.001 s"))
    shutil.copytree(REPO / "specs" / "data", tmp_path / "data")
    result = run(
        "pareto", spec, "--objectives", "emissions,cost", "-o", tmp_path / "f", "--solver", "gecode"
    )
    assert result.exit_code == 2, result.output
    assert "the front is empty" in result.output


def test_front_csv_figures_carry_no_float_noise(tmp_path: Path):
    args = ["pareto", REPO / "specs" / "usage-cost.hada", "--objectives", "cost,time"]
    result = run(*args, "--points", "4", "-o", tmp_path, "--solver", "gecode")
    assert result.exit_code == 0, result.output
    with (tmp_path / "front.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        for name, text in row.items():
            if name not in ("hardware", "location", "algorithm", "label") and text:
                digits = text.lower().split("e")[0].replace("-", "").replace(".", "").lstrip("0")
                assert len(digits) <= 12, (name, text)


def _fixed_program_spec(folder: Path) -> Path:
    """`fixed` has no params (a program as it is) on two hardware, beside a tuned one."""
    rng = np.random.default_rng(0)
    for name, base in (("fixed_h1", 5.0), ("fixed_h2", 3.0)):
        rows = "".join(f"{base + rng.random()},{rng.random()}\n" for _ in range(20))
        (folder / f"{name}.csv").write_text("t,m\n" + rows)
    rows = "".join(
        f"{k},{k + rng.random()},{rng.random()}\n" for k in range(1, 5) for _ in range(5)
    )
    (folder / "tuned.csv").write_text("k,t,m\n" + rows)
    spec = folder / "np.hada"
    spec.write_text(
        "spec np\nhardware h1 { cores = 1 }\nhardware h2 { cores = 2 }\n"
        'algorithm fixed {\n  data h1 = "fixed_h1.csv"\n  data h2 = "fixed_h2.csv"\n}\n'
        'algorithm tuned {\n  param k: int in 1..4\n  data h1 = "tuned.csv"\n}\n'
        'target t = "t" in s ~ tree(max_depth = 3)\ntarget m = "m" in MB ~ linear\n'
        "SENSE t\n"
    )
    return spec


@pytest.mark.parametrize("sense", ["minimize", "maximize"])
@pytest.mark.parametrize(
    ("solver", "shape"),
    [("gecode", "enumerated"), ("cbc", "enumerated"), ("cbc", "mip"), ("gecode", "mip")],
)
def test_an_algorithm_without_params_solves(tmp_path: Path, sense: str, solver: str, shape: str):
    """In the MIP model such a program is a table of one row beside the encoded surrogates,
    in the CP model (Gecode on the MIP shape, memory a tree then) a tree of one leaf;
    maximising is where a wrong pair would show."""
    spec = _fixed_program_spec(tmp_path)
    text = spec.read_text().replace("SENSE", sense)
    if shape == "mip":
        text = text.replace("max_depth = 3)", "max_depth = 3, encoding = structure)")
    if solver == "gecode" and shape == "mip":
        text = text.replace("~ linear", "~ tree(max_depth = 2)")
    spec.write_text(text)
    result = run("solve", spec, "-o", tmp_path / "b", "--solver", solver, "--json")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["model"]["shape"] == shape
    if solver == "gecode" and shape == "mip":
        assert manifest["model"]["cp"]["trees"] > 0
    answer = json.loads(result.stdout)
    assert answer["status"] == "OPTIMAL" and answer["verified"]
    means = {hw: pd.read_csv(tmp_path / f"fixed_{hw}.csv")["t"].mean() for hw in ("h1", "h2")}
    tuned = [
        float(v)
        for v in joblib.load(tmp_path / "b" / "models" / "tuned-h1-t.joblib").predict(
            np.arange(1, 5, dtype=float).reshape(-1, 1)
        )
    ]
    pick = min if sense == "minimize" else max
    assert answer["objective"] == pytest.approx(pick([*means.values(), *tuned]), rel=1e-9)
    if answer["choice"]["algorithm"] == "fixed":
        assert answer["choice"]["params"] == {}
        assert answer["predicted"]["t"] == pytest.approx(means[answer["choice"]["hardware"]])


def _hard_build(folder: Path) -> Path:
    """A MIP model that COIN-BC takes minutes to prove: a forest of 100 deep trees."""
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 40, 1600), rng.uniform(0, 40, 1600)
    t = np.sin(x / 3) * np.cos(y / 5) * 10 + x * 0.1 + rng.normal(0, 1, 1600) + 20
    rows = "".join(f"{a},{b},{c}\n" for a, b, c in zip(x, y, t, strict=True))
    (folder / "d.csv").write_text("x,y,t\n" + rows)
    (folder / "hard.hada").write_text(
        "spec hard\nhardware h { cores = 1 }\n"
        "algorithm a {\n  param x: float in 0.0..40.0\n  param y: float in 0.0..40.0\n"
        '  data h = "d.csv"\n}\n'
        'target t = "t" in s ~ forest(n_estimators = 100, max_depth = 8)\n'
        'target u = "t" in s ~ forest(n_estimators = 100, max_depth = 8)\nminimize t\n'
    )
    assert run("compile", folder / "hard.hada", "-o", folder / "b").exit_code == 0
    return folder / "b"


@pytest.mark.parametrize("command", ["solve", "pareto"])
def test_ctrl_c_exits_130_and_leaves_no_process(tmp_path: Path, command: str):
    build = _hard_build(tmp_path)
    hadac = [sys.executable, "-m", "hadac", "solve", str(build), "--solver", "cbc"]
    if command == "pareto":
        hadac = [sys.executable, "-m", "hadac", "pareto", str(tmp_path / "hard.hada")]
        hadac += ["--objectives", "t,u", "-o", str(tmp_path / "front"), "--solver", "cbc"]
    proc = subprocess.Popen(
        hadac,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # a test runner may start with SIGINT ignored; a terminal's user would not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(4.0)
    spawned = descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output
    assert "interrupted" in output
    assert "Traceback" not in output and "internal error" not in output
    time.sleep(0.5)
    alive = [pid for pid in spawned if _running(pid)]
    assert not alive, f"processes left running: {alive}"


def _running(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
