"""Carbon intensity by location, `let`, several locations as a decision, `--location`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from hadac import carbon
from hadac.builddir import BuildDir
from hadac.checks import load
from hadac.cli import main
from hadac.compiler import compile_spec
from hadac.errors import HadacError
from hadac.solve import solve_build

DATA = REPO / "specs" / "data"
SOLVER = "gecode"


def _codecarbon_file(name: str) -> dict:
    """codecarbon's own data file, read here without hadac's help."""
    folder = Path(next(iter(importlib.util.find_spec("codecarbon").submodule_search_locations)))
    return json.loads((folder / "data" / "private_infra" / name).read_text())


def _spec(tmp_path: Path, text: str, name: str = "spec.hada") -> Path:
    path = tmp_path / name
    path.write_text(text.replace('"data/', f'"{DATA}/'))
    return path


ONE_MACHINE = """spec s
hardware laptop {{ cores = 4 {extra} }}
algorithm anticipate {{
  param nScenarios: int in 1..20
  data laptop = "data/anticipate_laptop.csv"
}}
target time   = "time(sec)"   in s   ~ tree(max_depth = 4)
target energy = "energy(kWh)" in kWh ~ tree(max_depth = 4)
{body}
minimize time
"""


def test_intensities_are_codecarbons_numbers():
    mix = _codecarbon_file("global_energy_mix.json")
    per_source = _codecarbon_file("carbon_intensity_per_source.json")
    data = carbon.table()
    for code in ("ITA", "FRA", "SWE", "POL", "USA"):
        assert data.lookup(code) == mix[code]["carbon_intensity"]
    assert data.world_average == per_source["world_average"]
    assert len(data.by_code) == len(mix)


def test_unknown_location_takes_the_world_average_with_a_warning(tmp_path):
    spec = _spec(tmp_path, ONE_MACHINE.format(extra='location = "ZZZ"', body=""))
    problem, reporter = load(spec)
    assert problem.hardware[0].numbers[carbon.ATTRIBUTE] == carbon.table().world_average
    (warning,) = [d for d in reporter.warnings if "ZZZ" in d.message]
    assert warning.pos.line == 2
    assert "using the world average, 475 g/kWh" in warning.message
    assert warning.format().startswith(f"{spec}:2:")


def test_carbon_intensity_overrides_the_location_and_converts_units(tmp_path):
    extra = 'location = "POL"  carbon_intensity = 0.05 kg/kWh'
    spec = _spec(tmp_path, ONE_MACHINE.format(extra=extra, body=""))
    problem, _ = load(spec)
    assert problem.hardware[0].numbers[carbon.ATTRIBUTE] == 50.0
    problem, _ = load(spec, location="SWE")  # the hardware's own value still wins
    assert problem.hardware[0].numbers[carbon.ATTRIBUTE] == 50.0


@pytest.mark.parametrize(
    ("extra", "body", "message"),
    [
        (
            'location = "ITA" }\nhardware server { cores = 8',
            "let e = energy * carbon_intensity",
            "hardware 'server' has no location and no carbon_intensity, used at line 10",
        ),
        ('location = "ITA"', "let e = energy + time", "incompatible units for '+'"),
        ('location = "ITA"', "let e = f * 2\nlet f = time", "let 'f' is declared at line 10,"),
        ('location = "ITA"', "let time = energy", "has the name of a target"),
        ('location = "ITA"', "let e = time\nlet e = energy", "duplicate let 'e'"),
        ('location = "ITA"', "let carbon_intensity = time", "has the name of a target"),
        ("carbon_intensity = 3 s", "", "needs a unit of mass per energy"),
        ('location = {"ITA", "FRA"} carbon_intensity = 3 g/kWh', "", "several locations"),
        ('location = "ITA"', "constraint time <= 5 s with confidence 1.5", "above 0 and below 1"),
    ],
)
def test_spec_errors(tmp_path, extra, body, message):
    spec = _spec(tmp_path, ONE_MACHINE.format(extra=extra, body=body))
    with pytest.raises(HadacError) as raised:
        load(spec)
    assert message in str(raised.value)


def test_lets_inline_into_objectives_and_constraints(tmp_path):
    body = (
        "let per_kwh = energy * carbon_intensity\nlet grams = per_kwh * 1\nconstraint grams <= 1 kg"
    )
    spec = _spec(tmp_path, ONE_MACHINE.format(extra='location = "ITA"', body=body))
    problem, _ = load(spec)
    assert [let.name for let in problem.lets] == ["per_kwh", "grams"]
    assert problem.lets[1].unit_text == "g"
    assert problem.bounds[0].bound == 1000.0  # 1 kg in the let's unit, grams


def test_several_locations_are_a_decision(builds):
    build = BuildDir(builds["carbon"].directory)
    names = [h.name for h in build.manifest.hardware]
    assert names == ["laptop", "server", "cloud_ITA", "cloud_FRA", "cloud_SWE"]
    cloud = [s.model for s in build.manifest.surrogates if s.hardware == "cloud_SWE"]
    assert cloud == [s.replace("cloud_SWE", "cloud") for s in cloud]  # one fit, shared
    assert all((build.directory / m).exists() for m in cloud)
    answer = solve_build(build, SOLVER)
    point = answer.point
    assert (point.declared, point.location, point.location_chosen) == ("cloud", "SWE", True)
    assert point.label().startswith("anticipate on cloud in SWE")
    intensity = carbon.table().lookup("SWE")
    assert answer.objective == pytest.approx(point.predicted["energy"] * intensity, rel=1e-12)
    assert point.lets["emissions_here"] == answer.objective


def test_location_changes_the_answer_where_it_should(tmp_path):
    spec = REPO / "specs" / "carbon.hada"
    here = solve_build(BuildDir(compile_spec(spec, tmp_path / "here").directory), SOLVER)
    build = compile_spec(spec, tmp_path / "fra", location="FRA")
    france = solve_build(BuildDir(build.directory), SOLVER)
    assert (here.point.declared, here.point.location) == ("cloud", "SWE")
    # In France every machine has the same intensity: the least energy wins, the laptop.
    assert (france.point.hardware, france.point.location) == ("laptop", "FRA")
    assert [h.name for h in build.manifest.hardware] == ["laptop", "server", "cloud"]
    fra = carbon.table().lookup("FRA")
    assert france.objective == pytest.approx(france.point.predicted["energy"] * fra, rel=1e-12)


def test_location_leaves_the_answer_where_it_should_not(tmp_path):
    # tiny.hada minimizes the CO2e measured where the benchmarks ran: no intensity enters.
    tiny = REPO / "specs" / "tiny.hada"
    before = solve_build(BuildDir(compile_spec(tiny, tmp_path / "a").directory), SOLVER)
    after = solve_build(
        BuildDir(compile_spec(tiny, tmp_path / "b", location="FRA").directory), SOLVER
    )
    assert after.point.label() == before.point.label()
    assert after.objective == before.objective
    # Every machine in one country: moving them all scales the objective, not the choice.
    text = (REPO / "specs" / "carbon.hada").read_text()
    text = text.replace('location = {"ITA", "FRA", "SWE"}', 'location = "ITA"')
    text = text.replace('location = "POL"', 'location = "ITA"')
    italy = _spec(tmp_path, text, "italy.hada")
    here = solve_build(BuildDir(compile_spec(italy, tmp_path / "c").directory), SOLVER)
    moved = compile_spec(italy, tmp_path / "d", location="FRA")
    there = solve_build(BuildDir(moved.directory), SOLVER)
    assert there.point.label() == here.point.label()
    ratio = carbon.table().lookup("FRA") / carbon.table().lookup("ITA")
    assert there.objective == pytest.approx(here.objective * ratio, rel=1e-9)


def test_cli_solve_location_json(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "solve",
            str(REPO / "specs" / "carbon.hada"),
            "--location",
            "FRA",
            "--solver",
            SOLVER,
            "-o",
            str(tmp_path / "b"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["location"] == {"hardware": "laptop", "code": "FRA", "chosen": False}
    assert set(payload["lets"]) == {"emissions_here", "usage_cost"}
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["carbon"]["location"] == "FRA"
    bad = CliRunner().invoke(main, ["solve", str(tmp_path / "b"), "--location", "FRA"])
    assert bad.exit_code == 2 and "needs the spec" in bad.output
