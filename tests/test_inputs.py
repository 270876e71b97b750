"""Instance inputs given at solve time: one build of specs/instances.hada, many days.

The surrogates of specs/instances.hada take the day's `pv_mean` and `load_std` after the
params. The build is compiled once; each day is only the data of a solve. Every answer is
compared with exhaustive enumeration of the estimators the build saved, predicting at that
day's inputs (tests/oracles.py), and the model file must not change, byte or mtime.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO, edited
from oracles import configurations, optimum

from hadac.builddir import BuildDir
from hadac.cli import main
from hadac.compiler import compile_spec
from hadac.errors import HadacError
from hadac.inputs import InputValue
from hadac.query import Query
from hadac.solve import solve_build

SPEC = REPO / "specs" / "instances.hada"
DOMAINS = {"anticipate": (range(1, 13),), "contingency": ((1, 2, 4, 8, 16, 32),)}
PAIRS = [(a, h) for a in DOMAINS for h in ("laptop", "server")]
TARGETS = ("time", "cost", "emissions")
COST, TIME = 250.0, 12.0  # the spec's constraints, in EUR and s


def _days(count: int, seed: int) -> list[tuple[float, float]]:
    """(pv_mean, load_std) drawn in their declared ranges."""
    rng = np.random.default_rng(seed)
    return [
        (round(float(rng.uniform(100, 400)), 2), round(float(rng.uniform(50, 250)), 2))
        for _ in range(count)
    ]


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> BuildDir:
    return BuildDir(compile_spec(SPEC, tmp_path_factory.mktemp("instances") / "b").directory)


def _query(build: BuildDir, pv_mean: float, load_std: float) -> Query:
    manifest = build.manifest
    given = [InputValue("pv_mean", pv_mean), InputValue("load_std", load_std)]
    return Query.of_spec(manifest).with_inputs(manifest, given)


def _least_emissions(directory: Path, day: tuple[float, float]):
    """The enumerated optimum at `day`: the configuration and its emissions, or None."""
    rows = list(configurations(directory, PAIRS, DOMAINS, TARGETS, inputs=day))

    def value(row):
        p = row.predicted
        return p["emissions"] if p["cost"] <= COST and p["time"] <= TIME else None

    return rows, optimum(rows, value)


def _check_against_enumeration(build: BuildDir, solver: str, days) -> set:
    """Solve each day, compare with enumeration; the set of choices made."""
    choices = set()
    for day in days:
        answer = solve_build(build, solver, query=_query(build, *day))
        rows, best = _least_emissions(build.directory, day)
        if best is None:
            assert answer.status == "INFEASIBLE", day
            continue
        assert answer.status == "OPTIMAL", day
        point = answer.point
        assert answer.objective == best, day
        expected = next(
            r
            for r in rows
            if (r.algorithm, r.hardware, r.point)
            == (point.algorithm, point.hardware, tuple(map(float, point.params.values())))
        )
        assert point.predicted == expected.predicted, day
        assert [v.value for v in answer.query.inputs] == list(day)
        choices.add((point.algorithm, point.hardware, tuple(point.params.values())))
    return choices


@pytest.mark.parametrize(
    "solver",
    [
        pytest.param("gecode", marks=pytest.mark.requires_solver("gecode", where="native")),
        pytest.param("cbc", marks=pytest.mark.requires_solver("cbc", where="native")),
    ],
)
def test_twenty_days_one_model_each_equal_to_enumeration(build, solver):
    model, data = build.model_path, build.data_path
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in (model, data)]
    choices = _check_against_enumeration(build, solver, _days(20, seed=12))
    assert len(choices) > 1, "the day changed no answer: the inputs are not used"
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in (model, data)] == before


@pytest.mark.requires_solver("cbc", where="native")
def test_the_mip_shape_takes_the_inputs_as_parameters(tmp_path):
    """The same study encoded by the trees' structure: inputs are data of each solve."""
    text = SPEC.read_text().replace(
        "tree(max_depth = 6)", "tree(max_depth = 6, encoding = structure)"
    )
    spec = tmp_path / "instances.hada"
    spec.write_text(text)
    (tmp_path / "data").symlink_to(REPO / "specs" / "data")
    build = BuildDir(compile_spec(spec, tmp_path / "b").directory)
    assert not build.enumerated
    model = build.model_path.read_text()
    assert "float: input_pv__mean;" in model and "float: input_load__std;" in model
    before = build.model_path.stat().st_mtime_ns
    _check_against_enumeration(build, "cbc", _days(4, seed=3))
    assert build.model_path.stat().st_mtime_ns == before
    with pytest.raises(HadacError, match="load_std = 300 is outside its declared range 50..250"):
        solve_build(build, "cbc", query=_query(build, 250.0, 300.0))


def test_the_manifest_records_the_inputs(build):
    manifest = build.manifest
    assert [(i.name, i.type, i.low, i.high, i.default) for i in manifest.inputs] == [
        ("pv_mean", "float", 100.0, 400.0, 250.0),
        ("load_std", "float", 50.0, 250.0, None),
    ]
    assert manifest.input("load_std").reference == 150.0  # the middle, without a default
    assert manifest.algorithm_inputs["contingency"] == ("pv_mean", "load_std")
    assert manifest.surrogate("anticipate", "laptop", "cost").inputs == (
        "nScenarios",
        "pv_mean",
        "load_std",
    )


def test_at_recomputes_the_tables_from_the_saved_estimators(build):
    day = (268.0, 167.0)
    at = build.at({"pv_mean": day[0], "load_std": day[1]})
    rows = list(configurations(build.directory, PAIRS, DOMAINS, TARGETS, inputs=day))
    assert list(at.values("cost")) == [r.predicted["cost"] for r in rows]
    assert list(build.values("cost")) != list(at.values("cost"))  # the saved ones: reference
    assert build.at(build.inputs) is build


def run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_prints_the_inputs_it_assumed(build):
    result = run("solve", build.directory, "--input", "load_std=167", "--solver", "gecode")
    assert result.exit_code == 0, result.output
    assert "input pv_mean   250 (default)" in result.stdout
    assert "input load_std  167 (given)" in result.stdout
    assert "verified against the fitted models" in result.stdout


def test_cli_json_and_both_file_forms_agree(build, tmp_path):
    flat, hada = tmp_path / "flat.json", tmp_path / "hada.json"
    flat.write_text(json.dumps({"pv_mean": 268, "load_std": 167}))
    hada.write_text(
        json.dumps(
            {"inputs": [{"name": "pv_mean", "value": 268}, {"name": "load_std", "value": 167}]}
        )
    )
    answers = []
    for args in (
        ("--input", "pv_mean=268", "--input", "load_std=167"),
        ("--inputs", flat),
        ("--inputs", hada),
        ("--inputs", hada, "--input", "pv_mean=268"),
    ):
        result = run("solve", build.directory, "--solver", "gecode", "--json", *args)
        assert result.exit_code == 0, result.output
        answers.append(json.loads(result.stdout))
    assert answers[0]["inputs"] == [
        {"name": "pv_mean", "value": 268.0, "default": False},
        {"name": "load_std", "value": 167.0, "default": False},
    ]
    assert all(a["choice"] == answers[0]["choice"] for a in answers)
    assert all(a["predicted"] == answers[0]["predicted"] for a in answers)
    assert answers[0]["query"]["inputs"] == answers[0]["inputs"]


def test_cli_an_input_without_value_nor_default_is_an_error(build):
    result = run("solve", build.directory, "--solver", "gecode")
    assert result.exit_code == 1
    assert result.stderr == (
        "hadac: error: input 'load_std' (float in 50..250, line 18 of the spec) has no value"
        " and no default: give it, e.g. --input load_std=150\n"
    )


@pytest.mark.parametrize(
    ("given", "expect"),
    [
        (
            "load_st=160",
            "--input:1:1: error: this build has no input 'load_st' (its inputs: pv_mean"
            " (float in 100..400), load_std (float in 50..250))\n    1 | load_st=160\n"
            "      | ^^^^^^^\n",
        ),
        (
            "load_std=lots",
            "--input:1:10: error: input 'load_std' (float in 50..250) takes a finite number,"
            " not 'lots'\n    1 | load_std=lots\n      |          ^^^^\n",
        ),
        (
            "load_std",
            "--input:1:1: error: expected NAME=VALUE, like pv_mean=250\n    1 | load_std\n"
            "      | ^^^^^^^^\n",
        ),
        (
            "load_std=inf",
            "--input:1:10: error: input 'load_std' (float in 50..250) takes a finite number,"
            " not 'inf'\n    1 | load_std=inf\n      |          ^^^\n",
        ),
    ],
    ids=["unknown-name", "not-a-number", "no-equals-sign", "not-finite"],
)
def test_cli_a_bad_input_is_located_in_the_option(build, given, expect):
    result = run("solve", build.directory, "--input", given, "--input", "pv_mean=200")
    assert result.exit_code == 1
    assert result.stderr == expect


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ("[1, 2]", "expected an object"),
        ("{not json", "not JSON"),
        ('{"pv_mean": 200, "load": 3}', "field 'load': this build has no input 'load'"),
        ('{"load_std": "high"}', "field 'load_std': input 'load_std' (float in 50..250) takes"),
        ('{"inputs": [{"name": "load_std"}]}', "field 'inputs[0].value': missing"),
        ('{"inputs": {"load_std": 3}}', "field 'inputs': expected a list"),
        ('{"inputs": [{"name": "x", "value": 1}]}', "field 'inputs[0].value': this build has"),
    ],
    ids=["list", "not-json", "unknown", "string", "no-value", "not-a-list", "unknown-entry"],
)
def test_cli_a_bad_inputs_file_names_the_field(build, tmp_path, content, expect):
    path = tmp_path / "day.json"
    path.write_text(content)
    result = run("solve", build.directory, "--inputs", path)
    assert result.exit_code == 1
    assert expect in result.stderr and "Traceback" not in result.output


@pytest.mark.requires_solver("gecode")
def test_cli_a_value_outside_the_range_is_a_warning(build):
    result = run("solve", build.directory, "--input", "load_std=280", "--solver", "gecode")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        "warning: input load_std = 280 is outside its declared range 50..250: the surrogates"
        " extrapolate beyond their data\n"
    )


def test_an_int_input_takes_integers(tmp_path):
    spec = tmp_path / "int.hada"
    spec.write_text(
        edited(
            SPEC.read_text(),
            (
                "  input load_std: float in 50..250               #",
                "  input load_std: int in 50..250  #",
            ),
            ("  input load_std: float in 50..250\n", "  input load_std: int in 50..250\n"),
        )
    )
    (tmp_path / "data").symlink_to(REPO / "specs" / "data")
    directory = tmp_path / "b"
    assert run("compile", spec, "-o", directory).exit_code == 0
    result = run("solve", directory, "--input", "load_std=160.5")
    assert result.exit_code == 1
    assert "int input 'load_std' (int in 50..250) takes an integer, not '160.5'" in result.stderr


def test_a_build_without_inputs_refuses_one(tmp_path):
    directory = tmp_path / "tiny"
    assert run("compile", REPO / "specs" / "tiny.hada", "-o", directory).exit_code == 0
    result = run("solve", directory, "--input", "pv_mean=3")
    assert result.exit_code == 1
    assert "this build has no input 'pv_mean' (its inputs: none)" in result.stderr


@pytest.mark.requires_solver("cbc")
def test_pareto_and_report_take_the_inputs_too(tmp_path):
    front = run(
        "pareto", SPEC, "--objectives", "emissions,cost", "--points", "3",
        "--input", "load_std=200", "-o", tmp_path / "front", "--json",
    )  # fmt: skip
    assert front.exit_code == 0, front.output
    assert json.loads(front.stdout)["points"]
    page = tmp_path / "report.html"
    made = run("report", SPEC, "-o", page, "--build", tmp_path / "b", "--input", "load_std=120")
    assert made.exit_code == 0, made.output
    assert "load_std = <b>120</b>" in page.read_text()
    missing = run("pareto", SPEC, "--objectives", "emissions,cost", "-o", tmp_path / "f2")
    assert missing.exit_code == 1
    assert "input 'load_std' (float in 50..250, line 18 of the spec) has no value" in missing.stderr
