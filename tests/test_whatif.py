"""`hadac solve BUILD --constraint/--drop-constraint/--minimize/--maximize`: another question
to the same build, parsed with the spec's grammar and units, errors located in the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from hadac.cli import main
from hadac.compiler import compile_spec


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return compile_spec(REPO / "specs" / "tiny.hada", tmp_path_factory.mktemp("w") / "b").directory


@pytest.fixture(scope="module")
def carbon(tmp_path_factory) -> Path:
    return compile_spec(
        REPO / "specs" / "carbon.hada", tmp_path_factory.mktemp("c") / "b"
    ).directory


def solve(build: Path, *args: str):
    result = CliRunner().invoke(main, ["solve", str(build), "--solver", "gecode", *args])
    return result


def answer(build: Path, *args: str) -> dict:
    result = solve(build, *args, "--json")
    assert result.exit_code in (0, 2), result.output
    return json.loads(result.stdout)


@pytest.mark.requires_solver("gecode")
def test_a_constraint_on_a_bounded_quantity_replaces_its_bound(tiny):
    before = (tiny / "model.mzn").stat().st_mtime_ns
    spec = answer(tiny)
    tight = answer(tiny, "--constraint", "time <= 10 s")
    assert [c["text"] for c in tight["query"]["constraints"]] == [
        "time <= 10 s",
        "cost <= 310 kEUR",
        "memory <= 200 MB",
    ]
    assert tight["predicted"]["time"] <= 10 < spec["predicted"]["time"]
    assert tight["constraints"][0] | {"value": 0} == {
        "text": "time <= 10 s",
        "line": None,
        "op": "<=",
        "bound": 10.0,
        "unit": "s",
        "value": 0,
        "holds": True,
    }
    # Units convert as in a spec, and a bound written the other way round is the same bound.
    assert answer(tiny, "--constraint", "10 s >= time")["choice"] == tight["choice"]
    assert answer(tiny, "--constraint", "10000 ms >= time")["choice"] == tight["choice"]
    minutes = answer(tiny, "--constraint", "time <= 0.5 min")
    assert minutes["query"]["constraints"][0]["bound"] == 30.0
    row = minutes["constraints"][0]
    assert row["unit"] == "s" and row["written"] == {"value": row["value"] / 60, "unit": "min"}
    assert (tiny / "model.mzn").stat().st_mtime_ns == before


@pytest.mark.requires_solver("gecode")
def test_a_bound_shows_its_value_in_the_unit_it_was_written_in(tiny, tmp_path):
    said = solve(tiny, "--constraint", "time <= 500 min").output
    value = answer(tiny, "--constraint", "time <= 500 min")["constraints"][0]["value"]
    assert f"time <= 500 min  ({value / 60:.6g} min)" in said
    source = (REPO / "specs" / "tiny.hada").read_text().replace('"data/', f'"{REPO}/specs/data/')
    spec = tmp_path / "gigabytes.hada"
    spec.write_text(source.replace("constraint memory <= 200 MB", "constraint memory <= 0.2 GB"))
    build = compile_spec(spec, tmp_path / "b").directory
    row = answer(build)["constraints"][2]
    assert row["text"] == "memory <= 0.2 GB" and row["bound"] == 200.0
    assert row["written"] == {"value": pytest.approx(row["value"] / 1000), "unit": "GB"}
    assert "(0." in solve(build).output.split("memory <= 0.2 GB", 1)[1].splitlines()[0]


@pytest.mark.requires_solver("gecode")
def test_other_constraints_add_and_objectives_replace(tiny):
    added = answer(tiny, "--constraint", "time >= 20 s", "--maximize", "cost")
    assert len(added["query"]["constraints"]) == 4
    assert added["query"]["objective"] == {
        "quantity": "cost",
        "sense": "maximize",
        "text": "maximize cost",
    }
    assert added["predicted"]["time"] >= 20 and added["objective"] == added["predicted"]["cost"]
    fastest = answer(tiny, "--minimize", "time")
    assert fastest["objective"] == fastest["predicted"]["time"]


@pytest.mark.requires_solver("gecode")
def test_dropping_a_constraint_by_number_or_text(tiny):
    impossible = solve(tiny, "--constraint", "time <= 1 s")
    assert impossible.exit_code == 2
    assert "time <= 1 s cannot hold: the least time" in impossible.output
    by_number = answer(tiny, "--drop-constraint", "1", "--minimize", "time")
    by_text = answer(tiny, "--drop-constraint", "time   <= 30 s", "--minimize", "time")
    assert by_number["query"] == by_text["query"]
    assert [c["text"] for c in by_number["query"]["constraints"]] == [
        "cost <= 310 kEUR",
        "memory <= 200 MB",
    ]


@pytest.mark.requires_solver("gecode")
def test_a_let_is_a_quantity_too(carbon):
    cheap = answer(carbon, "--constraint", "usage_cost <= 0.0005 EUR")
    assert len(cheap["query"]["constraints"]) == 3
    assert cheap["lets"]["usage_cost"] <= 0.0005
    # The confidence margins of the spec's constraint stay when its bound changes.
    tight = answer(carbon, "--constraint", "time <= 25 s")
    row = tight["constraints"][0]
    assert row["confidence"] == 0.9 and row["value"] + row["margin"] <= 25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--constraint", "time <= 10 kg"],
            "--constraint:1:6: error: incompatible units for '<=': s ([time]) and kg ([mass])",
        ),
        (["--constraint", "time <="], "--constraint:1:8: error: unexpected end of file"),
        (["--constraint", "tme <= 3 s"], "--constraint:1:1: error: unknown name 'tme'"),
        (
            ["--constraint", "time * 2 <= 10 s"],
            "--constraint:1:1: error: this build has no quantity 'time * 2'; bound or"
            " optimise a target or let (time, cost, memory, emissions), or add `let NAME = ...`",
        ),
        (["--constraint", "time < 10 s"], "--constraint:1:6: error: '<' is not supported"),
        (
            ["--constraint", "time <= 10 s with confidence 0.9"],
            "--constraint:1:30: error: a confidence is compiled into the build",
        ),
        (["--maximize", "time * cost"], "--maximize:1:1: error: this build has no quantity"),
        (
            ["--drop-constraint", "9"],
            "--drop-constraint: error: there is no constraint 9: there are 3 constraints",
        ),
        (["--drop-constraint", "time <= 5 s"], "no such constraint (they are 1: time <= 30 s;"),
        (
            ["--minimize", "time", "--maximize", "cost"],
            "--maximize: error: give --minimize or --maximize, not both",
        ),
    ],
)
def test_what_if_errors_point_into_the_option(tiny, args, message):
    result = solve(tiny, *args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
