"""`hadac.load(...)`: a Study answers as `hadac solve --json` does for the same flags, its
answers are optimal against an enumeration of every configuration, and its errors point
into the argument that held the mistake."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO
from oracles import DOMAINS, PAIRS, configurations

import hadac
from hadac.cli import main

SOLVER = "gecode"
pytestmark = pytest.mark.requires_solver(SOLVER)


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, hadac.Study]:
    """tiny.hada (four tree targets) and carbon.hada (lets, a confidence, locations as a
    decision), compiled once into this module's folder."""
    folder = tmp_path_factory.mktemp("api")
    return {
        name: hadac.load(REPO / "specs" / f"{name}.hada", folder / name)
        for name in ("tiny", "carbon")
    }


def random_query(study: hadac.Study, rng: random.Random) -> dict:
    """A what-if as `Study.solve` keywords: another objective, bounds drawn inside each
    quantity's range, a constraint of the spec dropped, or several of these."""
    manifest = study.manifest
    named = [q for q in manifest.quantities if q.kind in ("target", "let")]
    query: dict = {}
    if rng.random() < 0.7:
        sense = rng.choice(("minimize", "maximize"))
        query[sense] = rng.choice(named).name
    constraints = []
    for q in rng.sample(named, rng.randint(0, 2)):
        bound = q.low + rng.random() * (q.high - q.low)
        constraints.append(f"{q.name} {rng.choice(('<=', '>='))} {bound:.4g} {q.unit}".rstrip())
    if constraints:
        query["constraints"] = constraints
    if rng.random() < 0.3:
        query["drop_constraints"] = [str(rng.randint(1, len(manifest.constraints)))]
    return query


def cli_flags(query: dict) -> list[str]:
    """The same what-if as `hadac solve` flags."""
    flags = []
    for sense in ("minimize", "maximize"):
        if sense in query:
            flags += [f"--{sense}", query[sense]]
    for text in query.get("constraints", ()):
        flags += ["--constraint", text]
    for name in query.get("drop_constraints", ()):
        flags += ["--drop-constraint", name]
    return flags


def without_timings(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if k != "timings"}


def cli_answer(build: Path, *flags: str) -> dict:
    result = CliRunner().invoke(main, ["solve", str(build), "--solver", SOLVER, *flags, "--json"])
    assert result.exit_code in (0, 2), result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", ["tiny", "carbon"])
def test_answers_equal_the_cli_for_random_queries(studies, name):
    study = studies[name]
    rng = random.Random(f"api-{name}")
    statuses = set()
    for _ in range(10):
        query = random_query(study, rng)
        answer = study.solve(**query, solver=SOLVER)
        expected = cli_answer(study.build.directory, *cli_flags(query))
        assert without_timings(answer.to_json()) == without_timings(expected), query
        statuses.add(answer.status)
    assert statuses >= {"OPTIMAL", "INFEASIBLE"}  # the draws reach both kinds of answer


def test_answers_are_optimal_against_enumeration(studies):
    """Each random query on tiny.hada: the objective is the best that any configuration
    meeting the query's bounds reaches, as the saved estimators predict it."""
    study = studies["tiny"]
    targets = [t.name for t in study.manifest.targets]
    rows = list(configurations(study.build.directory, PAIRS, DOMAINS, targets))
    rng = random.Random("api-optimal")
    checked = 0
    while checked < 8:
        query = random_query(study, rng)
        answer = study.solve(**query, solver=SOLVER)
        if answer.query.objective is None:
            continue
        limits = answer.query.limits
        feasible = [
            r.predicted
            for r in rows
            if all(limit.holds(r.predicted[limit.quantity]) for limit in limits)
        ]
        if not feasible:
            assert answer.status == "INFEASIBLE" and answer.explanations
        else:
            objective = answer.query.objective
            values = [p[objective.quantity] for p in feasible]
            best = min(values) if objective.sense == "minimize" else max(values)
            assert answer.status == "OPTIMAL"
            assert answer.objective == pytest.approx(best, rel=1e-9)
        checked += 1


def test_load_compiles_once_and_the_first_answer_counts_the_compile(tmp_path):
    spec = REPO / "specs" / "tiny.hada"
    first = hadac.load(spec, tmp_path / "b")
    assert first.compiled is not None and first.name == "tiny"
    answers = [first.solve(solver=SOLVER) for _ in range(2)]
    assert answers[0].timings["compile"] > 0 and answers[1].timings["compile"] is None
    again = hadac.load(spec, tmp_path / "b")
    assert again.compiled is None  # up to date: reused
    opened = hadac.load(tmp_path / "b")  # a build directory
    assert without_timings(opened.solve(solver=SOLVER).to_json()) == without_timings(
        answers[1].to_json()
    )


def test_another_location_is_a_build_beside_the_study(tmp_path):
    spec = REPO / "specs" / "tiny.hada"
    study = hadac.load(spec, tmp_path / "b")
    before = (tmp_path / "b" / "manifest.json").read_bytes()
    there = study.solve(location="FRA", solver=SOLVER, minimize="emissions")
    assert there.point.location == "FRA"
    assert (tmp_path / "b@FRA" / "manifest.json").is_file()
    assert (tmp_path / "b" / "manifest.json").read_bytes() == before
    result = CliRunner().invoke(
        main,
        ["solve", str(spec), "-o", str(tmp_path / "cli"), "--location", "FRA"]
        + ["--solver", SOLVER, "--minimize", "emissions", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert without_timings(json.loads(result.stdout)) == without_timings(there.to_json())
    assert study.at("FRA") is study.at("FRA")  # compiled once


@pytest.mark.parametrize(
    ("query", "located", "message"),
    [
        ({"constraints": ["time <= 3 kg"]}, "constraints[0]:1:6", "incompatible units"),
        (
            {"constraints": ["time <= 30 s", "tme <= 3 s"]},
            "constraints[1]:1:1",
            "unknown name 'tme'",
        ),
        ({"maximize": "time * cost"}, "maximize:1:1", "this build has no quantity"),
        ({"drop_constraints": ["9"]}, "drop_constraints[0]", "there is no constraint 9"),
        ({"minimize": "time", "maximize": "cost"}, "maximize", "not both"),
        ({"time_limit": 0}, "time_limit", "is not a time limit"),
        ({"location": "france"}, "location", "not an ISO 3166 alpha-3 code"),
        ({"solver": "cplex"}, "hadac", "unknown solver 'cplex'"),
    ],
)
def test_errors_are_hadac_errors_located_in_the_argument(studies, query, located, message):
    with pytest.raises(hadac.HadacError) as raised:
        studies["tiny"].solve(**query)
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.location == located and message in diagnostic.message


def test_a_constraint_is_dropped_by_its_number_or_its_text(studies):
    tiny = studies["tiny"]
    by_int, by_text = tiny.query(drop_constraints=[2]), tiny.query(drop_constraints=["2"])
    assert by_int == by_text == tiny.query(drop_constraints="cost <= 310 kEUR")
    assert [x.text for x in by_int.limits] == ["time <= 30 s", "memory <= 200 MB"]


def test_a_build_directory_cannot_move_to_a_location(studies):
    opened = hadac.load(studies["tiny"].build.directory)
    with pytest.raises(hadac.HadacError, match="a location needs the spec"):
        opened.solve(location="FRA")
    with pytest.raises(hadac.HadacError, match="a location needs the spec"):
        hadac.load(studies["tiny"].build.directory, location="FRA")


def test_describe_gives_domains_units_constraints_and_fitting_solvers(studies, tmp_path):
    tiny = studies["tiny"].describe()
    params = {a.name: a.params for a in tiny.algorithms}
    assert (params["anticipate"][0].low, params["anticipate"][0].high) == (1, 20)
    assert params["contingency"][0].values == (1, 2, 4, 8, 16, 32)
    assert {a.name: a.hardware for a in tiny.algorithms}["contingency"] == ("laptop", "server")
    assert {t.name: t.unit for t in tiny.targets} == {
        "time": "s",
        "cost": "kEUR",
        "memory": "MB",
        "emissions": "kg",
    }
    assert [(c.number, c.text) for c in tiny.constraints][0] == (1, "time <= 30 s")
    assert tiny.objective.text == "minimize emissions"
    assert [s.name for s in tiny.solvers] == ["cbc", "highs", "gecode", "chuffed"]
    assert json.loads(json.dumps(tiny.to_json()))["attribute_units"]["price"] == "EUR/h"
    carbon = studies["carbon"].describe()
    assert {h.name: h.location for h in carbon.hardware}["cloud_SWE"] == "SWE"
    assert [x.name for x in carbon.lets] == ["emissions_here", "usage_cost"]
    assert carbon.summary().hardware == ("laptop", "server", "cloud")
    by_location = {q.name: q.by_location for q in carbon.quantities}
    assert by_location["emissions_here"] and not by_location["time"]  # carbon intensity
    ranges = {q.name: (q.low, q.high) for q in tiny.quantities}
    assert ranges["time"][0] < 30 < ranges["time"][1] and tiny.inputs == ()
    instances = hadac.load(REPO / "specs" / "instances.hada", tmp_path / "inputs").describe()
    assert [(i.name, i.low, i.high, i.default) for i in instances.inputs] == [
        ("pv_mean", 100, 400, 250),
        ("load_std", 50, 250, None),
    ]
    mip = hadac.load(REPO / "specs" / "structure.hada", tmp_path / "mip").describe()
    assert mip.shape == "mip" and [s.name for s in mip.solvers] == ["cbc", "highs"]


def test_answers_and_fronts_show_as_html(studies):
    study = studies["tiny"]
    shown = study.solve(solver=SOLVER)._repr_html_()
    assert "OPTIMAL" in shown and "time &lt;= 30 s" in shown and "<table" in shown
    minutes = study.solve(constraints=["time <= 0.5 min"], solver=SOLVER)
    value = minutes.constraints[0]["written"]["value"]
    assert f"{value:.6g} min</td>" in minutes._repr_html_()  # in the unit the bound says
    refused = study.solve(constraints=["time <= 1 s"], solver=SOLVER)._repr_html_()
    assert "INFEASIBLE" in refused and "time &lt;= 1 s cannot hold" in refused
    front = study.pareto("cost,time", 4, SOLVER)
    drawn = front._repr_html_()
    assert drawn.count("<circle") == len(front.points) == 4 and "cost [kEUR]" in drawn


def test_instance_inputs_by_name_equal_the_cli_flags(tmp_path):
    """`inputs={...}` is `--input NAME=VALUE`: same answer, the inputs echoed as given."""
    study = hadac.load(REPO / "specs" / "instances.hada", tmp_path / "instances")
    for pv_mean, load_std in ((120.0, 60.0), (268.0, 167.0), (390.0, 240.0)):
        answer = study.solve(inputs={"pv_mean": pv_mean, "load_std": load_std}, solver=SOLVER)
        flags = ("--input", f"pv_mean={pv_mean}", "--input", f"load_std={load_std}")
        expected = cli_answer(study.build.directory, *flags)
        assert without_timings(answer.to_json()) == without_timings(expected)
        given = {v["name"]: v["value"] for v in answer.to_json()["query"]["inputs"]}
        assert given == {"pv_mean": pv_mean, "load_std": load_std}
    with pytest.raises(hadac.HadacError, match="no input 'pv_max'"):
        study.solve(inputs={"pv_max": 1.0}, solver=SOLVER)
