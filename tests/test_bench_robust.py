"""`hadac bench` against what breaks campaigns: compiles that replace the build, workloads
that return NaN or print without end, rows torn inside a quoted cell, hostile names and file
names in the campaign written, and schedulers that are no address or answer nothing.

Workloads are the fakes of tests/bench_workloads.py; codecarbon measures for real.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO
from hypothesis import example, given
from hypothesis import strategies as st

from hadac import bench, benchrunner
from hadac.cli import main
from hadac.errors import HadacError

TESTS = Path(__file__).resolve().parent


def _env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def _hadac(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hadac", *args],
        cwd=folder,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


# ---- bench output outlives compiles ----


def test_runners_and_logs_survive_a_compile_of_the_spec(tmp_path, monkeypatch):
    shutil.copytree(REPO / "specs" / "data", tmp_path / "data")
    text = (REPO / "specs" / "tiny.hada").read_text()
    text = text.replace("cores    = 4", "cores    = 1").replace(
        "  param nTraces: int in {1, 2, 4, 8, 16, 32}\n",
        '  param nTraces: int in {1, 2, 4, 8, 16, 32}\n  run = "bench_workloads:quick"\n',
    )
    (tmp_path / "tiny.hada").write_text(text)
    monkeypatch.chdir(tmp_path)
    args = ["bench", "tiny.hada", "--hardware", "laptop", "--render-only"]
    rendered = CliRunner().invoke(main, args)
    assert rendered.exit_code == 0, rendered.output
    folder = tmp_path / "build" / "tiny.bench"
    runner = folder / "run_contingency_on_laptop.py"
    assert f"runner {Path('build', 'tiny.bench', runner.name)}" in rendered.stderr
    log = runner.with_suffix(".log")
    log.write_text("Traceback of a failed run\n")
    for _ in range(2):  # the first compile creates the build, the second replaces it
        compiled = CliRunner().invoke(main, ["compile", "tiny.hada"])
        assert compiled.exit_code == 0, compiled.output
    assert runner.is_file() and log.read_text() == "Traceback of a failed run\n"
    assert runner.with_suffix(".json").is_file() and (folder / "hadac_benchrunner.py").is_file()
    assert not any(path.suffix == ".py" for path in (tmp_path / "build" / "tiny").rglob("*"))


# ---- what a workload returns and prints ----

ODD = """spec odd
hardware one { cores = 1  location = "ITA" }
algorithm odd {
  param how: int in 0..3
  run = "bench_workloads:odd"
  instances = {0}
  data one = "odd.csv"
}
algorithm bad {
  param how: int in {0, 1}
  run = "bench_workloads:odd"
  instances = 0..1
  data one = "bad.csv"
}
target time = "time(sec)" in s ~ tree(max_depth = 2)
minimize time
"""


def _last_row_first(path: Path, how: str) -> str:
    """Rewrite the CSV with the row of `how` last; the text before that row."""
    with open(path, encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        header, rows = reader.fieldnames, list(reader)
    rows.sort(key=lambda row: row["how"] == how)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows[:-1])
    before = buffer.getvalue()
    writer.writerow(rows[-1])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return before


def test_non_finite_metrics_chatty_workloads_failed_campaigns_and_torn_quoted_rows(tmp_path):
    (tmp_path / "spec.hada").write_text(ODD)
    result = _hadac(tmp_path, "bench", "spec.hada", "--hardware", "one", "--algorithm", "odd")
    assert result.returncode == 0, result.stderr
    assert "finished: odd on one: 2 done, 2 failed, 0 skipped" in result.stdout
    rows = {row["how"]: row for row in _rows(tmp_path / "odd.csv")}
    assert rows["0"]["error"] == "ValueError: metric 'value' is nan, not a finite number"
    assert rows["1"]["error"] == "ValueError: metric 'value' is inf, not a finite number"
    assert rows["0"]["value"] == rows["1"]["value"] == ""
    assert rows["2"]["note"] == 'line one, "quoted"\nline two é' and rows["2"]["error"] == ""
    assert rows["3"]["value"] == "3.0" and rows["3"]["error"] == ""

    # 200k lines of output (13 MB) leave a log of at most 1 MB, whose last line says so
    log = tmp_path / "build" / "odd.bench" / "run_odd_on_one.log"
    size = log.stat().st_size
    assert 900_000 < size <= 1_000_200
    lines = log.read_bytes().decode().splitlines()
    assert lines[-2] == "[runner: the log is full; further output is dropped]"
    dropped = int(lines[-1].split()[1])
    assert lines[-1] == f"[runner: {dropped} more bytes of output dropped, past 1000000]"
    assert size + dropped > 13_000_000
    assert "ValueError: metric 'value' is nan" in log.read_text()  # tracebacks come first

    # a row torn right after the line end inside its quoted note is redone, not kept
    out = tmp_path / "odd.csv"
    before = _last_row_first(out, "2")
    whole = out.read_text(encoding="utf-8")
    out.write_text(whole[: whole.index("line one") + len('line one, ""quoted""\n')])
    again = _hadac(tmp_path, "bench", "spec.hada", "--hardware", "one", "--algorithm", "odd")
    assert again.returncode == 0, again.stderr
    assert "dropped an incomplete last line" in again.stderr
    assert "finished: odd on one: 1 done, 0 failed, 3 skipped" in again.stdout
    assert out.read_text(encoding="utf-8").startswith(before)
    rows = {row["how"]: row for row in _rows(out)}
    assert len(rows) == 4 and rows["2"]["note"] == 'line one, "quoted"\nline two é'

    # every run failing is a failed campaign, with its summary
    failed = _hadac(tmp_path, "bench", "spec.hada", "--hardware", "one", "--algorithm", "bad")
    assert failed.returncode == 1, failed.stderr
    assert "finished: bad on one: 0 done, 4 failed, 0 skipped" in failed.stdout
    assert "error: every run failed (4); the first: ValueError: metric 'value' is" in (
        failed.stderr
    )
    assert "Traceback" not in failed.stderr


# ---- the CSV read back ----


def _runner_module(tmp_path: Path, spec_text: str = ODD, name: str = "spec.hada"):
    """The runner module written beside the campaign of algorithm odd, imported as a module,
    the campaign and its params (nothing runs)."""
    spec = tmp_path / name
    spec.write_text(spec_text)
    (campaign,) = bench.prepare(bench.load(spec), "one", "odd", directory=tmp_path / "b" / "odd")
    path = campaign.runner.with_name("hadac_benchrunner.py")
    loader = importlib.util.spec_from_file_location(f"runner_{id(tmp_path)}", path)
    module = importlib.util.module_from_spec(loader)
    sys.modules[loader.name] = module
    loader.loader.exec_module(module)
    settings, _ = module.load_campaign(campaign.file)
    return module, campaign, settings.params


def test_a_record_torn_anywhere_is_dropped_and_only_it(tmp_path):
    """Cut the file at every byte of its last record, inside a quoted cell of two lines and
    inside a character of two bytes too: the earlier rows stay done, the torn one is not."""
    runner, _, params = _runner_module(tmp_path)
    assert params == ("how",)
    path = tmp_path / "rows.csv"
    results = runner.Results(path, params)
    note = 'line one, "quoted"\nline two é'
    for how in range(3):
        results.append({"how": how, "instance": 0, "repeat": 0, "note": note, "error": ""})
    data = path.read_bytes()
    last = data.rindex(b"\n2,0,0,") + 1
    for cut in range(last, len(data)):
        path.write_bytes(data[:cut])
        reopened = runner.Results(path, params)
        assert reopened.dropped_partial == (cut > last), cut
        assert sorted(key[0] for key in reopened.done()) == [0.0, 1.0], cut
        assert path.read_bytes() == data[:last], cut
    path.write_bytes(data)
    reopened = runner.Results(path, params)
    assert not reopened.dropped_partial and len(reopened.done()) == 3
    assert [row["note"] for row in reopened.rows] == [note] * 3


def test_a_csv_malformed_before_its_end_is_refused_untouched(tmp_path):
    runner, campaign, params = _runner_module(tmp_path)
    text = 'how,instance,repeat,error\n0,0,0,"a"b\n1,0,0,\n'
    campaign.out.write_text(text)
    with pytest.raises(runner.CampaignError, match=r"odd.csv:2: not CSV as this runner writes"):
        runner.Results(campaign.out, params)
    with pytest.raises(HadacError, match="choose another --out"):
        bench.run(campaign)
    assert campaign.out.read_text() == text


# ---- hostile text in the campaign written ----

HOSTILE_FILES = [
    'a"""b.hada',
    "\\N{x}.hada",
    "\\u12.hada",
    "end\\.hada",
    'x"; open("PWNED", "w"); y = ".hada',
    '"""; open("PWNED", "w"); """.hada',
    "two\nlines.hada",
    "nul\x01\x1f\x7f.hada",
    "\u2028sep\ufeff.hada",
    os.fsdecode(b"not-utf8-\xff.hada"),
]
NAMES = """spec {spec}
hardware {hw} {{ cores = 1  location = "ITA" }}
algorithm {algo} {{
  param {param}: int in {{1, 2}}
  run = "bench_workloads:where"
  data {hw} = "x.csv"
}}
target time = "time(sec)" in s ~ tree(max_depth = 2)
minimize time
"""


def _render(folder: Path, file_name: str, **names: str) -> bench.Campaign:
    folder.mkdir()
    spec = folder / file_name
    spec.write_text(NAMES.format(**names))
    problem = bench.load(spec)
    (campaign,) = bench.prepare(problem, names["hw"], directory=folder / "build" / "x")
    return campaign


def test_hostile_file_names_and_names_are_data_never_code(tmp_path):
    plain = {"spec": "s", "hw": "one", "algo": "odd", "param": "n"}
    reference = _render(tmp_path / "plain", "spec.hada", **plain)
    script = (REPO / "templates" / "bench" / "run.py").read_bytes()
    module = (REPO / "hadac" / "benchrunner.py").read_bytes()
    assert b"{{" not in script and b"{%" not in script  # copied as it is, no template
    hostile = {"spec": "import", "hw": "None", "algo": "exec", "param": "SCRIPT"}
    for index, file_name in enumerate(HOSTILE_FILES):
        names = hostile if index % 2 else plain
        campaign = _render(tmp_path / f"case{index}", file_name, **names)
        # the same code whatever the spec: its text is nowhere in it
        assert campaign.runner.read_bytes() == reference.runner.read_bytes() == script
        assert campaign.runner.with_name("hadac_benchrunner.py").read_bytes() == module
        # the campaign file is UTF-8 JSON that gives every name back as it was
        data = json.loads(campaign.file.read_text(encoding="utf-8"))
        given = (data["spec_file"], data["algorithm"], data["hardware"], data["params"])
        assert given == (file_name, names["algo"], names["hw"], [names["param"]]), file_name
        settings, runs = benchrunner.load_campaign(campaign.file)
        assert settings.spec_file == file_name and settings.params == (names["param"],)
        assert sorted(run[0][names["param"]] for run in runs) == [1, 2]
    # run as a program, the crafted names write no file, and the campaign measures its runs
    for index in (4, 5):
        folder = tmp_path / f"case{index}"
        runner = next((folder / "build" / "x.bench").glob("*.py"))
        subprocess.run([sys.executable, runner.name, "--help"], cwd=runner.parent,
                       capture_output=True, check=True, timeout=60)  # fmt: skip
        names = hostile if index % 2 else plain
        result = _hadac(folder, "bench", HOSTILE_FILES[index], "--hardware", names["hw"])
        assert result.returncode == 0, result.stderr
        assert "2 done, 0 failed" in result.stdout
        rows = _rows(folder / "x.csv")
        assert sorted(row[names["param"]] for row in rows) == ["1", "2"]
        assert {row["hardware"] for row in rows} == {names["hw"]}
        assert not any(path.name == "PWNED" for path in tmp_path.rglob("*"))


ANY_CHARACTER = st.characters(codec=None, categories=None)  # lone surrogates too


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(ANY_CHARACTER),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(ANY_CHARACTER, max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
@example('\udcff"""\\N{x}\\u12\n')
@example({"\udcff": [-0.0, 1e308, "\u2028\x7f\x00"]})
def test_json_text_is_utf8_json_of_the_same_value(value):
    text = bench.json_text(value)
    text.encode("utf-8")  # the campaign is a UTF-8 file, whatever the text
    assert repr(json.loads(text)) == repr(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"x": [float("-inf")]}])
def test_json_text_refuses_what_json_cannot_hold(value):
    with pytest.raises(ValueError):
        bench.json_text(value)


# ---- --scheduler ----


@pytest.mark.parametrize(
    "value",
    ["notaurl", "tcp://host", "tcp://host:99999", "http://host:80", "tcp://:8786", "h:1/x"],
)
def test_scheduler_that_is_no_address_is_refused_naming_the_option(tmp_path, monkeypatch, value):
    (tmp_path / "spec.hada").write_text(ODD)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["bench", "spec.hada", "--hardware", "one", "--scheduler",
                                       value])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--scheduler'" in result.stderr
    assert repr(value) in result.stderr and "tcp://HOST:PORT" in result.stderr
    assert not (tmp_path / "build").exists()


def test_scheduler_addresses_of_dask_are_accepted():
    assert bench.scheduler_address("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert bench.scheduler_address("tls://[::1]:8786") == "tls://[::1]:8786"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    (tmp_path / "spec.hada").write_text(ODD)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    result = _hadac(tmp_path, "bench", "spec.hada", "--hardware", "one", "--algorithm", "odd",
                    "--scheduler", address)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        f"hadac: error: cannot reach the Dask scheduler {address} (waited up to 10 s):"
    )
    assert "Traceback" not in result.stderr

    # the runner alone says the same of an address that is none
    runner = tmp_path / "build" / "odd.bench" / "run_odd_on_one.py"
    alone = subprocess.run([sys.executable, runner, "--scheduler", "notaurl", "--out", "x.csv"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert alone.returncode == 1 and "Traceback" not in alone.stderr
    assert "error: cannot reach the Dask scheduler notaurl" in alone.stderr
