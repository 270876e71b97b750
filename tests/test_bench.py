"""`hadac bench`: designs, runners, robust collection, resume, Dask, and the runner alone.

Everything is real: codecarbon measures every run, workers are processes that crash and
hang for real, the kill is a SIGKILL, Dask is a LocalCluster with `dask worker` processes.
Only the workloads are fakes (tests/bench_workloads.py), fast enough to keep the whole file
within a minute or two.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import codecarbon
import psutil
import pytest
from click.testing import CliRunner
from conftest import REPO, install_wheel, venv_with_test_packages

from hadac.benchspec import BenchSetup
from hadac.cli import main
from hadac.design import plan
from hadac.problem import AlgorithmInfo, ParamDomain
from hadac.workloads import vpp

TESTS = Path(__file__).resolve().parent
CPUS = len(os.sched_getaffinity(0))
COLUMNS_AFTER_METRICS = [
    "time(sec)",
    "cpuTime(sec)",
    "memPeak(MB)",
    "memAvg(MB)",
    "energy(kWh)",
    "cpuEnergy(kWh)",
    "ramEnergy(kWh)",
    "CO2e(kg)",
    "hardware",
    "cpuCount",
    "host",
    "codecarbon",
    "started",
    "error",
]


def _env(**extra: str) -> dict[str, str]:
    """The environment of a campaign: the fake workloads importable, nothing else changed."""
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}


def _bench(folder: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hadac", "bench", "spec.hada", *args],
        cwd=folder,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(path.read_text()))
    return list(reader.fieldnames), list(reader)


def _spec(folder: Path, text: str) -> Path:
    path = folder / "spec.hada"
    path.write_text(text)
    return path


# ---- designs ----


def _algorithm(*params: ParamDomain) -> AlgorithmInfo:
    return AlgorithmInfo("alg", params, 1)


N = ParamDomain("n", "int", 1, 4, (1.0, 2.0, 4.0), 1)
X = ParamDomain("x", "float", 0.0, 1.0, None, 2)


def test_grid_runs_every_combination_once_per_repeat_in_a_seeded_order():
    runs = plan(_algorithm(N), BenchSetup("m:f", (0, 1), "grid", None, 2, 7))
    assert len(runs) == 3 * 2 * 2
    keys = [(r.params["n"], r.instance, r.repeat) for r in runs]
    assert len(set(keys)) == len(keys)
    assert {r.repeat for r in runs[:6]} == {0}  # the whole design once before any repeat
    assert all(isinstance(r.params["n"], int) for r in runs)
    again = plan(_algorithm(N), BenchSetup("m:f", (0, 1), "grid", None, 2, 7))
    other = plan(_algorithm(N), BenchSetup("m:f", (0, 1), "grid", None, 2, 8))
    assert again == runs and other != runs and sorted(map(str, other)) == sorted(map(str, runs))


@pytest.mark.parametrize("design", ["random", "lhs"])
def test_drawn_designs_name_every_run_once(design):
    """Points drawn twice become further repeats: (params, instance, repeat) stays unique."""
    runs = plan(_algorithm(N, X), BenchSetup("m:f", (0, 1, 2), design, 30, 2, 1))
    assert len(runs) == 60
    keys = [(r.params["n"], r.params["x"], r.instance, r.repeat) for r in runs]
    assert len(set(keys)) == 60
    assert {r.params["n"] for r in runs} <= {1, 2, 4} and {r.instance for r in runs} == {0, 1, 2}
    assert all(0.0 <= r.params["x"] <= 1.0 for r in runs)
    small = plan(_algorithm(N), BenchSetup("m:f", (0,), design, 12, 1, 1))
    assert len({(r.params["n"], r.repeat) for r in small}) == 12
    assert max(r.repeat for r in small) >= 3  # 12 draws of 3 values: repeats, not duplicates


def test_lhs_spreads_few_runs_over_every_instance():
    runs = plan(_algorithm(N), BenchSetup("m:f", tuple(range(6)), "lhs", 6, 1, 0))
    assert sorted(r.instance for r in runs) == list(range(6))


# ---- campaigns on this machine ----

QUICK = """spec quick
hardware one { cores = 1  location = "ITA" }
hardware two { cores = 2  location = "FRA" }
algorithm fake {
  param n: int in {1, 2}
  run = "bench_workloads:quick"
  instances = 0..1
  bench { design = grid; repeats = 2; seed = 3 }
  data one = "data/fake_one.csv"
  data two = "data/fake_two.csv"
}
target time      = "time(sec)"   in s   ~ tree(max_depth = 2)
target memory    = "memPeak(MB)" in MB  ~ tree(max_depth = 2)
target energy    = "energy(kWh)" in kWh ~ tree(max_depth = 2)
target emissions = "CO2e(kg)"    in kg  ~ tree(max_depth = 2)
minimize emissions
constraint time <= 1 min
"""


def test_rows_have_the_documented_shape_and_a_rerun_skips_them(tmp_path, monkeypatch):
    _spec(tmp_path, QUICK)
    hardware = ["one", "two"] if CPUS >= 2 else ["one"]
    for name in hardware:
        result = _bench(tmp_path, "--hardware", name)
        assert result.returncode == 0, result.stderr
        assert f"finished: fake on {name}: 8 done, 0 failed, 0 skipped" in result.stdout
        header, rows = _rows(tmp_path / "data" / f"fake_{name}.csv")
        assert header == ["n", "instance", "repeat", "value", "cpus", "ompThreads"] + (
            COLUMNS_AFTER_METRICS
        )
        assert sorted((r["n"], r["instance"], r["repeat"]) for r in rows) == sorted(
            (str(n), str(i), str(r)) for n in (1, 2) for i in (0, 1) for r in (0, 1)
        )
        cores = 1 if name == "one" else 2
        for row in rows:
            assert row["error"] == ""
            assert row["value"] == str(int(row["n"]) * 10 + int(row["instance"]))
            assert row["cpus"] == row["ompThreads"] == row["cpuCount"] == str(cores)
            assert float(row["time(sec)"]) >= 0.02 * int(row["n"])
            assert 0 < float(row["cpuTime(sec)"]) < float(row["time(sec)"])
            assert float(row["memPeak(MB)"]) >= float(row["memAvg(MB)"]) > 10
            assert float(row["energy(kWh)"]) > 0 and float(row["CO2e(kg)"]) > 0
            energy = float(row["cpuEnergy(kWh)"]) + float(row["ramEnergy(kWh)"])
            assert float(row["energy(kWh)"]) == pytest.approx(energy)
            assert row["hardware"] == name and row["codecarbon"] == codecarbon.__version__
    # the same energy is dirtier in Italy than in France
    if len(hardware) == 2:
        intensity = {}
        for name in hardware:
            _, rows = _rows(tmp_path / "data" / f"fake_{name}.csv")
            co2e = sum(float(r["CO2e(kg)"]) for r in rows)
            intensity[name] = co2e / sum(float(r["energy(kWh)"]) for r in rows)
        assert intensity["one"] > 2 * intensity["two"]

    before = (tmp_path / "data" / "fake_one.csv").read_text()
    again = _bench(tmp_path, "--hardware", "one")
    assert again.returncode == 0, again.stderr
    assert "8 already in data/fake_one.csv, 0 to run" in again.stderr
    assert "0 done, 0 failed, 8 skipped" in again.stdout
    assert (tmp_path / "data" / "fake_one.csv").read_text() == before

    # --retry-errors runs the failed runs again, in place of their error rows
    header, rows = _rows(tmp_path / "data" / "fake_one.csv")
    rows[3]["error"] = "ValueError: a bad day"
    failed = (rows[3]["n"], rows[3]["instance"], rows[3]["repeat"])
    with open(tmp_path / "data" / "fake_one.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    retried = _bench(tmp_path, "--hardware", "one", "--retry-errors")
    assert "1 failed run to retry" in retried.stderr
    assert "1 done, 0 failed, 7 skipped" in retried.stdout
    _, rows = _rows(tmp_path / "data" / "fake_one.csv")
    assert len(rows) == 8 and all(r["error"] == "" for r in rows)
    assert (rows[-1]["n"], rows[-1]["instance"], rows[-1]["repeat"]) == failed

    # the columns serve target lines as they are: only the number of rows is short
    monkeypatch.chdir(tmp_path)
    checked = CliRunner().invoke(main, ["check", "spec.hada"])
    errors = [line for line in checked.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 2 and all("has 8 rows to learn from" in e for e in errors), errors


NAMED = (
    QUICK.replace(
        "  param n: int in {1, 2}\n",
        '  param engine: str in {"lne", "tflite"}\n  param n: int in {1, 2}\n',
    )
    .replace("bench_workloads:quick", "bench_workloads:named")
    .replace("repeats = 2", "repeats = 1")
)


def test_str_params_are_benchmarked_by_name_and_a_rerun_skips_them(tmp_path, monkeypatch):
    _spec(tmp_path, NAMED)
    result = _bench(tmp_path, "--hardware", "one")
    assert result.returncode == 0, result.stderr
    assert "8 done, 0 failed, 0 skipped" in result.stdout
    header, rows = _rows(tmp_path / "data" / "fake_one.csv")
    assert header[:4] == ["engine", "n", "instance", "repeat"]
    assert sorted((r["engine"], r["n"], r["instance"]) for r in rows) == sorted(
        (e, str(n), str(i)) for e in ("lne", "tflite") for n in (1, 2) for i in (0, 1)
    )
    code = {"lne": 1, "tflite": 2}
    assert all(
        int(r["value"]) == code[r["engine"]] * 10 + int(r["n"]) + int(r["instance"]) for r in rows
    )
    again = _bench(tmp_path, "--hardware", "one")
    assert "0 done, 0 failed, 8 skipped" in again.stdout, again.stderr
    folder = tmp_path / "build" / "quick.bench"
    campaign = json.loads((folder / "run_fake_on_one.json").read_text())
    assert campaign["names"] == {"engine": ["lne", "tflite"]}
    campaign["runs"][0]["params"]["engine"] = "tvm"
    (folder / "run_fake_on_one.json").write_text(json.dumps(campaign))
    broken = subprocess.run(
        [sys.executable, str(folder / "run_fake_on_one.py")],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert broken.returncode != 0
    assert "run 0: param engine must be one of lne, tflite" in broken.stderr


def test_the_main_job_campaign_reproduces_rows_of_its_shipped_shape(tmp_path):
    """The shipped CSV less one row: `hadac bench` on the real spec runs just that run again,
    with the real workload, and its row has the shipped columns, the day's features that
    the spec's inputs read among them."""
    shipped = REPO / "specs" / "data" / "energy-local" / "contingency_one_core.csv"
    header, rows = _rows(shipped)
    lines = shipped.read_text().splitlines(keepends=True)
    gone = next(i for i, r in enumerate(rows) if (r["nTraces"], r["instance"]) == ("4", "0"))
    out = tmp_path / "contingency.csv"
    out.write_text("".join(lines[: gone + 1] + lines[gone + 2 :]))
    result = subprocess.run(
        [sys.executable, "-m", "hadac", "bench", str(REPO / "specs" / "energy-local.hada")]
        + ["--hardware", "one_core", "--algorithm", "contingency", "--out", str(out)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "1 done, 0 failed, 119 skipped" in result.stdout
    again, now = _rows(out)
    assert again == header and len(now) == len(rows)
    new = now[-1]
    old = rows[gone]
    assert (new["nTraces"], new["instance"], new["repeat"]) == ("4", "0", "0")
    assert new["cost"] == old["cost"]  # the workload is deterministic; only measures vary
    features = vpp.features(vpp.instance(0))
    assert header[3:7] == list(features) == ["pv_mean", "pv_std", "load_mean", "load_std"]
    assert {name: float(new[name]) for name in features} == features
    assert new["error"] == "" and float(new["CO2e(kg)"]) > 0 and new["cpuCount"] == "1"


CHAOS = """spec chaos
hardware one { cores = 1  location = "ITA" }
algorithm chaos {
  param how: int in 0..4
  run = "bench_workloads:chaos"
  instances = {0}
  data one = "chaos.csv"
}
target time = "time(sec)" in s ~ tree(max_depth = 2)
minimize time
"""


def test_a_run_that_raises_exits_crashes_or_hangs_leaves_an_error_row(tmp_path, monkeypatch):
    _spec(tmp_path, CHAOS)
    result = _bench(tmp_path, "--hardware", "one", "--run-timeout", "1.5")
    assert result.returncode == 0, result.stderr
    assert "finished: chaos on one: 1 done, 4 failed, 0 skipped" in result.stdout
    _, rows = _rows(tmp_path / "chaos.csv")
    errors = {int(r["how"]): r["error"] for r in rows}
    assert errors == {
        0: "",
        1: "ValueError: a bad day",
        2: "SystemExit: the run called sys.exit(3)",
        3: "the worker process died during the run (exit code 4)",
        4: "timed out after 1.5 s; the worker process was killed",
    }
    fine = next(r for r in rows if r["how"] == "0")
    assert fine["value"] == "0" and float(fine["CO2e(kg)"]) > 0
    raised = next(r for r in rows if r["how"] == "1")
    assert float(raised["time(sec)"]) >= 0 and raised["value"] == ""
    hung = next(r for r in rows if r["how"] == "4")
    assert 1.5 <= float(hung["time(sec)"]) < 10
    log = (tmp_path / "build" / "chaos.bench" / "run_chaos_on_one.log").read_text()
    assert "ValueError: a bad day" in log  # the traceback, for whoever debugs the workload

    monkeypatch.chdir(tmp_path)
    checked = CliRunner().invoke(main, ["check", "spec.hada"])
    assert 'chaos.csv:2: column "error": warning: 4 rows of failed runs left out' in (
        checked.stderr
    )
    assert "chaos.csv has 1 row to learn from" in checked.stderr  # one run is too few
    assert checked.exit_code == 1


SLOW = """spec slow
hardware one { cores = 1  location = "ITA" }
algorithm fake {
  param n: int in 1..4
  run = "bench_workloads:quick"
  instances = 0..9
  data one = "slow.csv"
}
target time = "time(sec)" in s ~ tree(max_depth = 2)
minimize time
"""


def _workers_of(folder: Path) -> list[psutil.Process]:
    """Live worker processes of runners under `folder`."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        line = process.info["cmdline"] or []
        if len(line) > 3 and line[1] == "-c" and line[3].startswith(str(folder)):
            found.append(process)
    return found


def test_a_killed_campaign_resumes_with_no_duplicate_and_no_lost_row(tmp_path):
    _spec(tmp_path, SLOW)
    out = tmp_path / "slow.csv"
    campaign = subprocess.Popen(
        [sys.executable, "-m", "hadac", "bench", "spec.hada", "--hardware", "one"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and out.read_text().count("\n") >= 11:  # header + 10 rows
                break
            time.sleep(0.02)
        assert _workers_of(tmp_path), "no worker process while the campaign runs"
        campaign.send_signal(signal.SIGKILL)
        campaign.wait(10)
    finally:
        campaign.kill()
    before = out.read_text()
    written = before.count("\n") - 1
    assert 10 <= written < 40
    deadline = time.monotonic() + 10
    while _workers_of(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _workers_of(tmp_path), "the worker outlived its campaign"
    # A kill in the middle of writing a row leaves a torn line: it is dropped, the run redone.
    _, rows = _rows(out)
    done = {(r["n"], r["instance"]) for r in rows}
    n, instance = next((n, i) for n in "1234" for i in range(10) if (n, str(i)) not in done)
    out.write_text(before + f"{n},{instance},0,{int(n) * 10 + instance},1")

    result = _bench(tmp_path, "--hardware", "one")
    assert result.returncode == 0, result.stderr
    assert "dropped an incomplete last line" in result.stderr
    assert f"{40 - written} done, 0 failed, {written} skipped" in result.stdout
    after = out.read_text()
    assert after.startswith(before)  # what was measured stays as it was
    _, rows = _rows(out)
    keys = [(r["n"], r["instance"], r["repeat"]) for r in rows]
    assert len(keys) == 40 and len(set(keys)) == 40
    assert set(keys) == {(str(n), str(i), "0") for n in range(1, 5) for i in range(10)}


# ---- the runner on its own ----

NO_HADAC = '''"""Installed by a .pth file: hadac does not import, as where it is not installed."""

import sys


class NoHadac:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "hadac" or name.startswith("hadac."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoHadac)
'''


def _venv_without_hadac(folder: Path) -> Path:
    """A fresh venv with the test environment's packages, codecarbon among them, in which
    hadac does not import."""
    python, purelib = venv_with_test_packages(folder)
    Path(purelib, "no_hadac.py").write_text(NO_HADAC)
    Path(purelib, "no_hadac.pth").write_text("import no_hadac\n")
    return python


def test_the_runner_runs_alone_in_a_fresh_venv_with_hadac_and_codecarbon(tmp_path):
    """Rendered here, copied elsewhere, run by a venv that has the hadac wheel (for the
    workload) and codecarbon: the runner imports nothing of hadac itself, and runs where
    hadac cannot be imported at all."""
    spec = """spec alone
hardware node { cores = 1  location = "ITA" }
algorithm contingency {
  param nTraces: int in {1, 2}
  run = "hadac.workloads.vpp:contingency"
  data node = "data/contingency_node.csv"
}
algorithm probe {
  param n: int in {1}
  run = "bench_workloads:probe"
  data node = "data/probe_node.csv"
}
target time = "time(sec)" in s ~ tree(max_depth = 2)
minimize time
"""
    _spec(tmp_path, spec)
    rendered = _bench(tmp_path, "--hardware", "node", "--render-only")
    assert rendered.returncode == 0, rendered.stderr
    assert not (tmp_path / "data").exists()
    node = tmp_path / "node"
    shutil.copytree(tmp_path / "build" / "alone.bench", node)

    # codecarbon and what it and the workload need come from the test environment
    python, names = install_wheel(tmp_path)
    assert "hadac/benchrunner.py" in names and "hadac/templates/bench/run.py" in names
    assert sorted(path.name for path in node.iterdir()) == [
        "hadac_benchrunner.py",
        "run_contingency_on_node.json",
        "run_contingency_on_node.py",
        "run_probe_on_node.json",
        "run_probe_on_node.py",
    ]
    # the fake workloads, but no checkout of hadac a PYTHONPATH may name: hadac is the wheel's
    env = {**os.environ, "PYTHONPATH": str(TESTS), "BENCH_TEST_VENV": str(tmp_path / "venv")}
    for name in ("run_contingency_on_node.py", "run_probe_on_node.py"):
        result = subprocess.run(
            [python, name, "--out", f"{name}.csv"],
            cwd=node,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "0 failed" in result.stdout
    _, rows = _rows(node / "run_contingency_on_node.py.csv")
    assert sorted(r["nTraces"] for r in rows) == ["1", "2"]
    assert all(float(r["cost"]) > 0 and float(r["CO2e(kg)"]) > 0 for r in rows)
    (probe,) = _rows(node / "run_probe_on_node.py.csv")[1]
    assert probe["hadacModules"] == "0"  # the runner itself loads no hadac
    assert probe["hadacFromVenv"] == "1"  # and the workload's hadac is the wheel's

    # where hadac is not installed, from another directory, the runner runs all the same
    bare = _venv_without_hadac(tmp_path / "bare")
    assert subprocess.run([bare, "-c", "import hadac"], capture_output=True).returncode != 0
    result = subprocess.run(
        [bare, node / "run_probe_on_node.py", "--out", "bare.csv"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "1 done, 0 failed" in result.stdout
    (probe,) = _rows(tmp_path / "bare.csv")[1]
    assert probe["hadacModules"] == "0" and probe["hadacFound"] == "0"


# ---- many machines ----


def test_dask_sends_each_run_to_a_worker_of_its_hardware(tmp_path):
    from distributed import Client, LocalCluster

    spec = """spec spread
hardware one { cores = 1  location = "ITA" }
hardware two { cores = 1  location = "ITA" }
algorithm fake {
  param n: int in 1..3
  run = "bench_workloads:where"
  instances = 0..1
  data one = "one.csv"
  data two = "two.csv"
}
target time = "time(sec)" in s ~ tree(max_depth = 2)
minimize time
"""
    _spec(tmp_path, spec)
    dask = Path(sys.executable).with_name("dask")
    with LocalCluster(n_workers=0, dashboard_address=":0", scheduler_port=0) as cluster:
        address = cluster.scheduler_address
        workers = [
            subprocess.Popen(
                [dask, "worker", address, "--resources", f"hw-{name}=1", "--name", name]
                + ["--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp_path)],
                env=_env(BENCH_TEST_WORKER=name),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in ("one", "two")
        ]
        try:
            with Client(address) as client:
                client.wait_for_workers(2, timeout=60)
            for name in ("one", "two"):
                result = _bench(tmp_path, "--hardware", name, "--scheduler", address)
                assert result.returncode == 0, result.stderr
                assert "6 done, 0 failed" in result.stdout
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(30)
    for name in ("one", "two"):
        _, rows = _rows(tmp_path / f"{name}.csv")
        assert len(rows) == 6
        assert {r["worker"] for r in rows} == {name}
        assert all(r["hardware"] == name and float(r["energy(kWh)"]) > 0 for r in rows)


# ---- the command line ----


def test_help_says_why_runs_go_one_after_the_other():
    result = CliRunner().invoke(main, ["bench", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "runs side by side on one machine would share its CPUs" in text
    assert "corrupt each other's time and energy" in text
    assert '--resources "hw-NAME=1"' in text


@pytest.mark.parametrize(
    "args, edit, message",
    [
        (
            ["--hardware", "three"],
            None,
            "hadac: error: unknown hardware 'three' (the spec declares: one, two)",
        ),
        (
            ["--hardware", "one", "--algorithm", "plain"],
            None,
            "hadac: error: algorithm 'plain' has no run = \"module:function\": nothing to"
            " benchmark",
        ),
        (
            ["--hardware", "one", "--out", "x.csv"],
            None,
            "hadac: error: --out names one CSV, but 2 algorithms would run (fake, other);"
            " add --algorithm",
        ),
        (
            ["--hardware", "two"],
            ('cores = 2  location = "FRA"', "cores = 2"),
            "spec.hada:3:10: error: hardware 'two' has no location: codecarbon needs the one"
            ' country whose grid powers it, as location = "ISO"',
        ),
        (
            ["--hardware", "two"],
            ("cores = 2", f"cores = {CPUS + 1}"),
            f"spec.hada:3:16: error: hardware 'two' has cores = {CPUS + 1}, but this machine"
            f" lets hadac use {CPUS} CPU(s); run the campaign on a machine that has them, or"
            " send it there with --scheduler",
        ),
    ],
    ids=["unknown-hardware", "no-run", "out-for-two", "no-location", "too-many-cores"],
)
def test_bench_request_errors(tmp_path, monkeypatch, args, edit, message):
    spec = (
        QUICK
        + """algorithm other {
  param n: int in {1}
  run = "bench_workloads:quick"
  data one = "data/other_one.csv"
}
algorithm plain {
  param n: int in {1}
  data one = "data/plain_one.csv"
}
"""
    )
    if edit is not None:
        spec = spec.replace(*edit)
    _spec(tmp_path, spec)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["bench", "spec.hada", "--render-only", *args])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0] == message
    written = (tmp_path / "build").rglob("*") if (tmp_path / "build").exists() else []
    assert not any(path.suffix in (".py", ".json") for path in written)


def _imports(path: Path) -> set[str]:
    """The top-level modules a Python file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_render_only_writes_a_runner_per_algorithm_and_runs_nothing(tmp_path, monkeypatch):
    _spec(tmp_path, QUICK)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["bench", "spec.hada", "--hardware", "one", "--render-only"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "build" / "quick.bench"
    runner = folder / "run_fake_on_one.py"
    module = folder / "hadac_benchrunner.py"
    assert sorted(path.name for path in folder.iterdir()) == [
        "hadac_benchrunner.py",
        "run_fake_on_one.json",
        "run_fake_on_one.py",
    ]
    assert module.read_text() == (REPO / "hadac" / "benchrunner.py").read_text()
    assert _imports(runner) == {"sys", "pathlib", "hadac_benchrunner"}
    outside = _imports(module) - set(sys.stdlib_module_names)
    assert outside == {"codecarbon", "psutil", "rich", "distributed"}  # no hadac, no numpy
    campaign = json.loads((folder / "run_fake_on_one.json").read_text())
    assert campaign["function"] == "bench_workloads:quick" and campaign["cores"] == 1
    assert campaign["location"] == "ITA" and campaign["params"] == ["n"]
    runs = [(r["params"]["n"], r["instance"], r["repeat"]) for r in campaign["runs"]]
    assert sorted(runs) == [(n, i, r) for n in (1, 2) for i in (0, 1) for r in (0, 1)]
    assert not (tmp_path / "data").exists()
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():  # the runner reads like the project's own code
        for path in (runner, module):
            subprocess.run([ruff, "check", "-q", str(path)], cwd=REPO, check=True)
            subprocess.run([ruff, "format", "-q", "--check", str(path)], cwd=REPO, check=True)
    help_text = subprocess.run(
        [sys.executable, str(runner), "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--run-timeout" in help_text and "--scheduler" in help_text
    assert "8 runs of bench_workloads:quick, grid of 2 n x 2 instances" in " ".join(
        help_text.split()
    )
