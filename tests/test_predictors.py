"""The verifier's numpy predictors: used only where the compile proved them to be `predict`.

Each kind's predictor is compared with `predict` bit for bit in tests/test_surrogates.py;
here, what a build records of them and what the verifier does with a predictor that was
not proven.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, SPECS
from oracles import load_models

from hadac.builddir import MANIFEST_FILE, BuildDir
from hadac.compiler import compile_spec
from hadac.solve import solve_build
from hadac.surrogates.tree import Tree


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_every_example_surrogate_has_an_exact_predictor(spec, builds):
    build = BuildDir(builds[spec.stem].directory)
    for entry in build.manifest.surrogates:
        assert entry.predictor is not None and entry.predictor.exact, entry.model
        assert entry.predictor.rows >= entry.rows
        assert (build.directory / entry.predictor.file).is_file()


@pytest.mark.requires_solver("gecode")
def test_a_predictor_not_proven_exact_is_not_used(tmp_path: Path, monkeypatch):
    """A tree predictor off by 1e-9 fails its proof, and the answer comes from scikit-learn."""
    wrong = Tree.combine
    monkeypatch.setattr(Tree, "combine", lambda self, v, a: wrong(self, v, a) + 1e-9)
    built = compile_spec(REPO / "specs" / "tiny.hada", tmp_path / "tiny")
    manifest = json.loads((built.directory / MANIFEST_FILE).read_text())
    assert {s["predictor"]["exact"] for s in manifest["surrogates"]} == {False}

    build = BuildDir(built.directory)
    assert build.predictor("anticipate", "laptop", "time") is None
    answer = solve_build(build, "gecode")  # the wrong predictor is still in place
    point = answer.point
    assert point is not None and answer.status == "OPTIMAL"
    models = load_models(build.directory, point.algorithm, point.hardware, point.predicted)
    x = np.array([list(point.params.values())], dtype=float)
    for target, value in point.predicted.items():
        assert value == float(models[target].predict(x)[0]), target
