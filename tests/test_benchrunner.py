"""`hadac.benchrunner` in pieces, without a run: the campaign file, resume from a CSV and its
torn rows, the order runs go in, what a workload may return, the log's bound.

The campaigns measured for real are in tests/test_bench.py and tests/test_bench_robust.py.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from hadac import bench, benchrunner
from hadac.benchrunner import CampaignError, Results, Settings
from hadac.benchspec import BenchSetup
from hadac.design import Run, plan
from hadac.problem import AlgorithmInfo, ParamDomain

SETTINGS = Settings(
    algorithm="fake",
    hardware="one",
    location="ITA",
    cores=1,
    function="bench_workloads:quick",
    params=("n", "x"),
    spec_file="spec.hada",
    hadac_version="0.1.0",
    design="grid of 2 n x 2 x",
    default_out="fake_one.csv",
)
SETTINGS_N = Settings("fake", "one", "ITA", 1, "m:f", ("n",))
RUNS = [({"n": 2, "x": 0.5}, 1, 0), ({"n": 1, "x": 0.25}, 0, 0), ({"n": 2, "x": 0.5}, 1, 1)]


def _campaign(folder: Path, settings: Settings = SETTINGS, runs=RUNS) -> Path:
    """The campaign file `hadac bench` writes for `settings` and `runs`."""
    path = folder / "run_fake_on_one.json"
    design = [Run(*run) for run in runs]
    path.write_text(bench.campaign_text(settings, design), encoding="utf-8")
    return path


# ---- the campaign file ----


def test_a_campaign_file_gives_back_its_settings_and_runs_in_order(tmp_path):
    settings, runs = benchrunner.load_campaign(_campaign(tmp_path))
    assert settings == SETTINGS
    assert runs == RUNS
    assert isinstance(runs[0][0]["n"], int) and isinstance(runs[0][0]["x"], float)
    assert Settings.from_json(settings.to_json()) == settings
    assert settings.key == ["n", "x", "instance", "repeat"] and settings.resource == "hw-one"


def test_the_campaign_file_keeps_the_order_of_the_design(tmp_path):
    """Seeded random, repeat 0 of every point first: the runner must not sort it back."""
    param = ParamDomain("n", "int", 1, 8, (1.0, 2.0, 4.0, 8.0), 1)
    algorithm = AlgorithmInfo("fake", (param,), 1)
    design = plan(algorithm, BenchSetup("m:f", (0, 1, 2), "grid", None, 2, 5))
    path = tmp_path / "c.json"
    settings = Settings("fake", "one", "ITA", None, "m:f", ("n",))
    path.write_text(bench.campaign_text(settings, design), encoding="utf-8")
    _, runs = benchrunner.load_campaign(path)
    assert runs == [(run.params, run.instance, run.repeat) for run in design]
    assert runs != sorted(runs, key=lambda run: (run[2], run[0]["n"], run[1]))
    assert {run[2] for run in runs[:12]} == {0}
    assert path.read_text().count("\n    {") == len(runs)  # one run a line


def test_pending_skips_what_is_done_and_keeps_the_order():
    row = {"n": "2.0", "x": "0.5", "instance": "1", "repeat": "0"}  # as a CSV gives it
    done = {benchrunner.run_key(row, ("n", "x")): row}
    assert benchrunner.pending(RUNS, done, ("n", "x")) == RUNS[1:]
    assert benchrunner.pending(RUNS, {}, ("n", "x")) == RUNS


def test_run_keys_compare_as_numbers():
    key = benchrunner.run_key({"n": 2, "instance": 1, "repeat": 0}, ["n"])
    assert key == benchrunner.run_key({"n": "2.0", "instance": "1.0", "repeat": "0"}, ["n"])
    assert key != benchrunner.run_key({"n": 2, "instance": 1, "repeat": 1}, ["n"])


def test_a_missing_campaign_file_says_what_writes_it(tmp_path):
    with pytest.raises(CampaignError, match=r"no campaign file .*hadac bench --render-only"):
        benchrunner.load_campaign(tmp_path / "gone.json")
    assert benchrunner.main(tmp_path / "gone.json", ["--help"]) == 1


def _edited(tmp_path: Path, edit) -> Path:
    path = _campaign(tmp_path)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(campaign_format=2), "campaign_format is 2, this runner reads 1"),
        (lambda d: d.pop("campaign_format"), "campaign_format is None"),
        (lambda d: d.pop("function"), '"function" must be a non-empty string'),
        (lambda d: d.update(location=""), '"location" must be a non-empty string'),
        (lambda d: d.update(cores=0), '"cores" must be a positive integer or null'),
        (lambda d: d.update(cores=True), '"cores" must be a positive integer or null'),
        (lambda d: d.update(params="n"), '"params" must be a list of non-empty strings'),
        (lambda d: d.update(params=["n", "n"]), '"params" names a param twice'),
        (lambda d: d.update(design=3), '"design" must be a string'),
        (lambda d: d.update(runs={}), '"runs" must be a list'),
        (lambda d: d["runs"][1].pop("repeat"), "run 1 must be an object of"),
        (lambda d: d["runs"][0]["params"].pop("x"), "run 0 must give a value to each param"),
        (lambda d: d["runs"][2]["params"].update(x="a"), "run 2: param x must be a number"),
        (lambda d: d["runs"][2]["params"].update(x=True), "run 2: param x must be a number"),
        (lambda d: d["runs"][0].update(instance=-1), "run 0: instance must be a non-negative"),
        (lambda d: d["runs"][0].update(repeat=1.0), "run 0: repeat must be a non-negative"),
    ],
)
def test_a_campaign_file_that_is_not_one_is_refused_saying_why(tmp_path, edit, message):
    path = _edited(tmp_path, edit)
    with pytest.raises(CampaignError) as raised:
        benchrunner.load_campaign(path)
    assert str(raised.value).startswith(f"{path} is not a campaign file of this runner: ")
    assert message in str(raised.value)


def test_a_campaign_file_that_is_no_json_or_repeats_a_run_is_refused(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("{")
    with pytest.raises(CampaignError, match="is not JSON"):
        benchrunner.load_campaign(path)
    path.write_text("[]")
    with pytest.raises(CampaignError, match="expected an object, got a list"):
        benchrunner.load_campaign(path)
    nan = _campaign(tmp_path).read_text().replace('"x": 0.25', '"x": NaN')
    path.write_text(nan)
    with pytest.raises(CampaignError, match="param x must be a finite number"):
        benchrunner.load_campaign(path)
    twice = _campaign(tmp_path, runs=[RUNS[0], ({"n": 2.0, "x": 0.5}, 1, 0)])
    with pytest.raises(CampaignError, match="run 1 repeats an earlier run"):
        benchrunner.load_campaign(twice)


def test_the_command_line_is_checked_against_the_campaign(tmp_path, capsys):
    path = _campaign(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        benchrunner.main(path, ["--run-timeout", "0"])
    assert stopped.value.code == 2
    assert "--run-timeout must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        benchrunner.main(path, ["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Benchmark fake on one: 3 runs of bench_workloads:quick, grid of 2 n x 2 x." in text
    assert "results CSV [fake_one.csv]" in text and "resource hw-one=1" in text


# ---- the CSV read back ----


def test_resume_knows_the_runs_done_and_keeps_rows_of_other_runs(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "n,instance,repeat,cost,error\n"
        "1,0,0,3.5,\n"
        "2.0,1,0,,ValueError: a bad day\n"
        "other,0,0,1,\n"  # names no run of this campaign: kept, never matched
    )
    results = Results(path, ["n"])
    assert sorted(results.done()) == [(1.0, 0, 0), (2.0, 1, 0)]
    assert len(results.rows) == 3 and not results.dropped_partial
    assert results.header[:4] == ["n", "instance", "repeat", "cost"]  # metrics before measures
    assert results.header[4:] == [*benchrunner.MEASURES, *benchrunner.LABELS]

    retried = Results(path, ["n"], retry_errors=True)
    assert retried.dropped_errors == 1 and sorted(retried.done()) == [(1.0, 0, 0)]
    assert "a bad day" not in path.read_text()


def test_a_torn_last_line_is_dropped_and_the_file_rewritten(tmp_path):
    path = tmp_path / "rows.csv"
    whole = "n,instance,repeat,error\n1,0,0,\n"
    path.write_text(whole + "2,0")
    results = Results(path, ["n"])
    assert results.dropped_partial and sorted(results.done()) == [(1.0, 0, 0)]
    text = path.read_text()
    assert text.endswith("\n") and text.count("\n") == 2 and "2,0" not in text
    again = Results(path, ["n"])
    assert not again.dropped_partial and sorted(again.done()) == [(1.0, 0, 0)]


@pytest.mark.parametrize(
    "text, whole",
    [
        ("a,b\n1,2\n", 8),
        ("a,b\n1,2", 4),  # the last line, cut before its end
        ('a,b\n1,"x\ny"\n', 12),
        ('a,b\n1,"x\ny', 4),  # cut inside a quoted cell of two lines
        ('a,b\n1,"x\n', 4),  # cut right after the line end inside the quoted cell
        ("a,b\r\n1,2\r\n", 10),
        ("", 0),
    ],
)
def test_whole_records_stop_before_a_torn_one(text, whole):
    assert benchrunner._whole_records(text, Path("x.csv")) == whole


def test_a_character_cut_in_two_at_the_end_is_torn_not_foreign(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_bytes("n,instance,repeat,note,error\n1,0,0,é,\n2,0,0,é".encode()[:-1])
    results = Results(path, ["n"])
    assert results.dropped_partial and [row["note"] for row in results.rows] == ["é"]
    path.write_bytes(b"n,instance,repeat,error\n\xff,0,0,\n")
    with pytest.raises(CampaignError, match="is not UTF-8 text"):
        Results(path, ["n"])


def test_a_csv_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CampaignError, match="its header lacks n, instance, repeat, error"):
        Results(path, ["n"])
    path.write_text('n,instance,repeat,error\n1,0,0,"a"b\n2,0,0,\n')
    with pytest.raises(CampaignError, match=r"rows.csv:2: not CSV as this runner writes it"):
        Results(path, ["n"])
    assert path.read_text() == 'n,instance,repeat,error\n1,0,0,"a"b\n2,0,0,\n'


def test_a_row_bringing_a_new_metric_widens_the_header(tmp_path):
    path = tmp_path / "rows.csv"
    results = Results(path, ["n"])
    results.append(benchrunner.error_row(SETTINGS_N, ({"n": 1}, 0, 0), "boom", 0.5, [0]))
    results.append({"n": 2, "instance": 0, "repeat": 0, "cost": 1.5, "time(sec)": 0.1})
    header, *lines = path.read_text().splitlines()
    assert header.split(",")[:4] == ["n", "instance", "repeat", "cost"]
    assert len(lines) == 2 and lines[1].startswith("2,0,0,1.5,0.1,")
    assert sorted(Results(path, ["n"]).done()) == [(1.0, 0, 0), (2.0, 0, 0)]


# ---- rows ----


def test_an_error_row_names_its_run_and_says_why():
    row = benchrunner.error_row(SETTINGS_N, ({"n": 4}, 2, 1), "timed out", 1.5, [0, 1])
    assert row["n"] == 4 and (row["instance"], row["repeat"]) == (2, 1)
    assert row["error"] == "timed out" and row["time(sec)"] == 1.5
    assert row["hardware"] == "one" and row["cpuCount"] == 2


class _Scalar:
    """What numpy scalars look like to the runner: a value behind `.item()`."""

    def __init__(self, value):
        self.value = value

    def item(self):
        return self.value


def test_metrics_are_numbers_or_strings_under_names_of_their_own():
    key = SETTINGS_N.key
    assert benchrunner._metrics({"ok": True, "cost": _Scalar(2.5), "s": "x"}, key) == {
        "ok": 1,
        "cost": 2.5,
        "s": "x",
    }
    for result, message in [
        ([1], "the run returned list, not a dict of metrics"),
        ({"n": 1}, "metric 'n' has the name of a column the runner writes"),
        ({"CO2e(kg)": 1}, "metric 'CO2e(kg)' has the name of a column"),
        ({"": 1}, "metric name '' is not a non-empty string"),
        ({"v": None}, "metric 'v' is a NoneType, not a number or str"),
        ({"v": float("nan")}, "metric 'v' is nan, not a finite number"),
        ({"v": _Scalar(float("-inf"))}, "metric 'v' is -inf, not a finite number"),
    ]:
        with pytest.raises((TypeError, ValueError), match=re.escape(message)):
            benchrunner._metrics(result, key)


def test_errors_fit_one_line():
    error = ValueError("a\nlong\tstory " + "x" * 400)
    text = benchrunner._one_line(error)
    assert text.startswith("ValueError: a long story xxx") and "\n" not in text
    assert len(text) == benchrunner.ERROR_CHARS and text.endswith("...")


# ---- the machine ----


def test_more_cores_than_the_runner_may_use_stop_the_campaign():
    available = len(os.sched_getaffinity(0))
    many = Settings("fake", "big", "ITA", available + 1, "m:f", ())
    with pytest.raises(benchrunner.WorkerStartError, match=f"has cores = {available + 1}"):
        benchrunner._cpus(many)
    assert (
        benchrunner._cpus(Settings("fake", "one", "ITA", 1, "m:f", ()))
        == sorted(os.sched_getaffinity(0))[:1]
    )


def test_exit_codes_and_durations_read_as_words():
    assert benchrunner._exit_text(4) == "exit code 4"
    assert benchrunner._exit_text(-9) == "killed by SIGKILL"
    assert benchrunner._exit_text(None) == "exit status unknown"
    assert benchrunner._duration(59.4) == "59 s"
    assert benchrunner._duration(61) == "1 min 01 s"
    assert benchrunner._duration(3 * 3600 + 120) == "3 h 02 min"


def test_the_log_keeps_whole_lines_up_to_its_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(benchrunner, "LOG_BYTES", 20)
    log = benchrunner.Log(tmp_path / "run.log")
    log.write(b"0123456789\n")
    log.write(b"abc\ndefghijkl\n")  # the second line does not fit
    log.write(b"more\n")
    log.close()
    lines = (tmp_path / "run.log").read_text().splitlines()
    assert lines == [
        "0123456789",
        "abc",
        "[runner: the log is full; further output is dropped]",
        "[runner: 15 more bytes of output dropped, past 20]",
    ]
