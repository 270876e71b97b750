"""Queries of enumerated builds answered from a FlatZinc flattened once (`hadac.prepared`),
and proven results reused for the same data: the same answers as a full MiniZinc solve."""

from __future__ import annotations

import random
import shutil

import pytest
from conftest import REPO, SPECS

from hadac import api, instance, prepared
from hadac.builddir import BuildDir

SOLVER = "gecode"
pytestmark = pytest.mark.requires_solver(SOLVER, where="native")


def _random_query(study: api.Study, rng: random.Random):
    """The spec's bounds, each kept, dropped or moved by up to half, and any objective."""
    spec = study.query().limits
    constraints = [
        f"{x.text.split(f' {x.op} ')[0]} {x.op} {x.bound * rng.uniform(0.5, 1.5)!r} {x.unit}"
        for x in spec
        if rng.random() < 0.8
    ]
    targets = [t.name for t in study.manifest.targets]
    sense = rng.choice(["minimize", "maximize", None])
    objective = {sense: rng.choice(targets)} if sense else {}
    return study.query(
        **objective, constraints=constraints, drop_constraints=[x.text for x in spec]
    )


def _essence(answer) -> dict:
    payload = answer.to_json()
    del payload["timings"]
    return payload


@pytest.mark.parametrize("spec", ["tiny", "carbon", "usage-cost"])
def test_prepared_answers_equal_a_full_minizinc_solve(spec, tmp_path, monkeypatch):
    """30 random queries per spec: optimal, feasible and infeasible ones; the same status,
    choice, figures and explanations whichever way the model was flattened."""
    study = api.load(REPO / "specs" / f"{spec}.hada", tmp_path / spec)
    rng = random.Random(spec)
    statuses = set()
    for _ in range(30):
        query = _random_query(study, rng)
        monkeypatch.setenv("HADAC_PREPARED", "1")
        fast = study.answer(query, SOLVER)
        monkeypatch.setenv("HADAC_PREPARED", "0")
        full = study.answer(query, SOLVER)
        assert _essence(fast) == _essence(full), query
        statuses.add(fast.status)
    assert "OPTIMAL" in statuses


def test_a_build_is_flattened_once_and_again_when_it_changes(tmp_path):
    spec = tmp_path / "tiny.hada"
    shutil.copytree(REPO / "specs" / "data", tmp_path / "data")
    spec.write_text((REPO / "specs" / "tiny.hada").read_text())
    study = api.load(spec, tmp_path / "build")
    query = study.query()
    names = list(instance.data(study.build, query))
    first, fresh = prepared.prepare(study.build, SOLVER, names)
    assert first is not None and fresh
    again, fresh = prepared.prepare(study.build, SOLVER, names)
    assert again is first and not fresh
    assert study.answer(query, SOLVER).timings["flatten"] == 0.0

    spec.write_text(spec.read_text().replace("max_depth = 6", "max_depth = 3"))
    changed = api.load(spec, tmp_path / "build")
    other, fresh = prepared.prepare(changed.build, SOLVER, names)
    assert other is not None and fresh and other.head != first.head


def test_a_proven_answer_asked_again_is_not_solved_again_and_still_verified(tmp_path):
    study = api.load(REPO / "specs" / "tiny.hada", tmp_path / "tiny")
    query = study.query(constraints=["time <= 21.5 s"])
    first = study.answer(query, SOLVER)
    second = study.answer(query, SOLVER)
    assert second.status == first.status == "OPTIMAL"
    assert second.timings["solve"] == 0.0 < first.timings["solve"]
    assert _essence(second) == _essence(first)
    assert second.constraints and all(row["holds"] for row in second.constraints)


def test_builds_with_instance_inputs_and_mip_builds_go_through_minizinc(tmp_path):
    inputs = api.load(REPO / "specs" / "instances.hada", tmp_path / "instances")
    assert prepared.prepare(inputs.build, SOLVER, [])[0] is None
    mip = api.load(REPO / "specs" / "structure.hada", tmp_path / "structure")
    assert prepared.prepare(mip.build, SOLVER, [])[0] is None
    tiny = api.load(REPO / "specs" / "tiny.hada", tmp_path / "tiny")
    assert prepared.prepare(tiny.build, "cbc", [])[0] is None


def test_every_spec_of_the_enumerated_shape_can_be_prepared(builds):
    for spec in SPECS:
        build = BuildDir(builds[spec.stem].directory)
        if not build.enumerated or build.manifest.inputs:
            continue
        query = instance.data(build, api.Study(build).query())
        assert prepared.prepare(build, SOLVER, list(query))[0] is not None, spec.stem
