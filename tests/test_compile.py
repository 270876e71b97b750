"""Compiling: determinism, the build directory's contents, atomic writes, the contract."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pytest
from conftest import REPO

from hadac.builddir import FORMAT_VERSION, BuildDir
from hadac.compiler import compile_spec
from hadac.errors import HadacError


def test_compiling_twice_gives_identical_bytes(tmp_path):
    spec = REPO / "specs" / "tiny.hada"
    first = compile_spec(spec, tmp_path / "a").directory
    second = compile_spec(spec, tmp_path / "b").directory
    for name in ("model.mzn", "data.json", "tables.npz", "manifest.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_build_directory_holds_what_the_design_lists(builds):
    build = builds["tiny"]
    manifest = json.loads((build.directory / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert len(manifest["spec"]["sha256"]) == 64
    assert all(len(d["sha256"]) == 64 for d in manifest["data"])
    assert {"hadac", "scikit-learn", "numpy", "python"} <= set(manifest["versions"])
    # 5 pairs with data (contingency has none on cloud) x 4 targets
    assert len(manifest["surrogates"]) == 20
    entry = manifest["surrogates"][0]
    for key in (
        "algorithm",
        "hardware",
        "target",
        "kind",
        "hyperparameters",
        "inputs",
        "encoding",
        "size",
        "holdout",
        "model",
    ):
        assert key in entry
    assert entry["inputs"] == ["nScenarios"]
    assert entry["hyperparameters"] == {"max_depth": 6}
    assert 0.5 < entry["holdout"]["r2"] <= 1.0


def test_saved_models_predict_what_the_tables_hold(builds):
    build = BuildDir(builds["tiny"].directory)
    for entry in build.manifest.surrogates:
        model = joblib.load(build.directory / entry.model)
        first, last = entry.size["configurations"]
        param = build.manifest.params[entry.algorithm][0].array
        x = np.array(build.tables[param][first - 1 : last], dtype=float).reshape(-1, 1)
        table = build.values(entry.target)[first - 1 : last]
        assert model.predict(x).tolist() == table.tolist()


def test_model_names_its_spec_and_source_lines(builds):
    text = (builds["tiny"].directory / "model.mzn").read_text()
    assert text.startswith('% hadac model of spec "tiny" (tiny.hada)')
    assert '% target time: "time(sec)" in s ~ tree(max_depth = 6)    (line 37)' in text
    assert "anticipate on laptop (data at line 26)" in text
    # A constraint is the query's data, not model text; the manifest keeps its line.
    assert "30" not in text.partition("---- Quantities")[2]
    constraint = BuildDir(builds["tiny"].directory).manifest.constraints[0]
    assert (constraint.text, constraint.line) == ("constraint time <= 30 s", 43)


def test_failed_compile_leaves_the_previous_build_untouched(tmp_path):
    spec = tmp_path / "spec.hada"
    source = (REPO / "specs" / "tiny.hada").read_text().replace('"data/', f'"{REPO}/specs/data/')
    spec.write_text(source)
    out = tmp_path / "build"
    compile_spec(spec, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    spec.write_text(source.replace("max_depth = 6", "max_depth = 0", 1))
    with pytest.raises(HadacError):
        compile_spec(spec, out)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "spec.hada"]


def test_contract_example_compiles_on_the_reference_data(contract_spec, tmp_path):
    build = BuildDir(compile_spec(contract_spec, tmp_path / "energy").directory)
    assert build.manifest.model.configurations == 400
    assert len(build.manifest.surrogates) == 16
    # The optimum of the fitted trees, by enumeration of the tables.
    feasible = np.ones(400, dtype=bool)
    for c in build.manifest.constraints:
        values = build.values(c.quantity)
        feasible &= values <= c.bound if c.op == "<=" else values >= c.bound
    emissions = build.values("emissions")
    assert np.min(emissions[feasible]) == pytest.approx(1.268945775619698e-05, rel=1e-12)


@pytest.mark.parametrize(
    ("kind", "shape"), [("tree(max_depth = 6)", "mip"), ("mlp(hidden = [4])", "enumerated")]
)
def test_a_network_study_is_enumerated_where_a_tree_study_is_not(tmp_path, kind, shape):
    """specs/transprecision.hada has 705,894 configurations: beyond the enumeration limit
    for trees (their CP model answers faster), within the one for ReLU networks, whose MIP
    encoding is the slowest (docs/performance.md, "Which shape")."""
    from hadac.checks import load
    from hadac.encode.model import shape_for

    spec = REPO / "specs" / "transprecision.hada"
    data = str(spec.parent / "data")
    text = spec.read_text().replace('"data/', f'"{data}/').replace("tree(max_depth = 6)", kind)
    path = tmp_path / "study.hada"
    path.write_text(text)
    problem, _ = load(path)
    assert shape_for(problem) == shape
