"""A MIP build solved one pair at a time (`hadac solve --by-pair`): the same optimum as the
one model, each pair's outcome reported, the pairs that cannot beat the incumbent proven so."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner
from conftest import REPO

from hadac import api
from hadac.cli import main

SOLVER = "cbc"
pytestmark = pytest.mark.requires_solver(SOLVER)


@pytest.fixture(scope="module")
def structure(tmp_path_factory) -> api.Study:
    return api.load(REPO / "specs" / "structure.hada", tmp_path_factory.mktemp("bypair") / "b")


def test_pair_by_pair_finds_the_one_models_optimum(structure):
    """Random objectives and bounds on the MIP model of structure.hada (its five pairs are
    trees, forests, boosted trees, linear models and a ReLU network): the same status and
    objective, and every pair solved to the end."""
    rng = random.Random("by-pair")
    spec = structure.query().limits
    targets = [t.name for t in structure.manifest.targets]
    beaten = 0
    for _ in range(6):
        constraints = [
            f"{x.text.split(f' {x.op} ')[0]} {x.op} {x.bound * rng.uniform(0.7, 1.3)!r} {x.unit}"
            for x in spec
        ]
        sense = rng.choice(["minimize", "maximize"])
        query = structure.query(
            **{sense: rng.choice(targets)},
            constraints=constraints,
            drop_constraints=[x.text for x in spec],
        )
        whole = structure.answer(query, SOLVER)
        by_pair = structure.answer(query, SOLVER, by_pair=2)
        assert by_pair.status == whole.status, query
        if whole.objective is not None:
            assert by_pair.objective == pytest.approx(whole.objective, rel=1e-6)
        pairs = [(p.algorithm, p.hardware) for p in structure.manifest.pairs]
        assert [(o.algorithm, o.hardware) for o in by_pair.pairs] == pairs
        assert all(o.status in ("OPTIMAL", "INFEASIBLE", "BOUNDED") for o in by_pair.pairs)
        beaten += sum(o.bound is not None and o.status != "OPTIMAL" for o in by_pair.pairs)
        for o in by_pair.pairs:
            if o.status == "BOUNDED":  # its surrogate's best cannot beat the incumbent
                bounds = structure.manifest.surrogate(
                    o.algorithm, o.hardware, query.objective.quantity
                ).bounds
                best = bounds[0] if query.objective.sense == "minimize" else bounds[1]
                assert (
                    (best >= o.bound) if query.objective.sense == "minimize" else (best <= o.bound)
                )
    assert beaten > 0  # some pair was proven unable to beat the incumbent


def test_the_cli_reports_each_pair_and_checks_its_flags(structure):
    build = str(structure.build.directory)
    result = CliRunner().invoke(main, ["solve", build, "--by-pair", "--jobs", "1", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    whole = json.loads(CliRunner().invoke(main, ["solve", build, "--json"]).stdout)
    assert payload["objective"] == pytest.approx(whole["objective"], rel=1e-6)
    statuses = {o["status"] for o in payload["pairs"]}
    assert statuses <= {"OPTIMAL", "INFEASIBLE", "BOUNDED"} and "BOUNDED" in statuses
    assert any(o["bound"] is None for o in payload["pairs"])  # the first: none to beat yet
    assert "pairs" not in whole
    shown = CliRunner().invoke(main, ["solve", build, "--by-pair"])
    assert shown.exit_code == 0 and shown.output.count("  pair ") == len(payload["pairs"])
    wrong = CliRunner().invoke(main, ["solve", build, "--one-model", "--jobs", "2"])
    assert wrong.exit_code == 2 and "--jobs goes with solving pair by pair" in wrong.output
    one = json.loads(CliRunner().invoke(main, ["solve", build, "--one-model", "--json"]).stdout)
    assert "pairs" not in one and one["objective"] == pytest.approx(whole["objective"])
    zero = CliRunner().invoke(main, ["solve", build, "--by-pair", "--jobs", "0"])
    assert zero.exit_code == 2 and "--jobs" in zero.output


def test_an_enumerated_build_or_a_query_without_objective_is_solved_whole(tmp_path, structure):
    tiny = api.load(REPO / "specs" / "tiny.hada", tmp_path / "tiny")
    assert tiny.answer(tiny.query(), SOLVER, by_pair=2).pairs == []
    spec = [x.text for x in structure.query().limits]
    query = structure.query(drop_constraints=spec)
    satisfied = structure.answer(type(query)(query.limits, None, query.inputs), SOLVER, by_pair=2)
    assert satisfied.pairs == [] and satisfied.status == "FEASIBLE"
