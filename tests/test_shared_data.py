"""Hardware-independent data: `data = "file.csv"` in an algorithm block.

specs/transprecision.hada measures time and memory per platform and the quality of a
precision setting once per algorithm; the quality surrogate is fitted once on that file and
serves every platform. Its answers equal exhaustive enumeration of the saved estimators on
every solver of its shape (MIP), and a two-param variant, small enough to enumerate in the
model, on every solver of that shape.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, edited
from oracles import configurations, optimum

from hadac.api import Study
from hadac.builddir import BuildDir
from hadac.cli import main
from hadac.compiler import compile_spec
from hadac.errors import HadacError
from hadac.report import fit_figures
from hadac.solve import solve_build

SPEC = REPO / "specs" / "transprecision.hada"
DATA = REPO / "specs" / "data" / "transprecision"
ALGORITHMS = ("saxpy", "convolution")
PLATFORMS = ("edge", "laptop", "cloud")
PRICE = {"edge": 0.02, "laptop": 0.10, "cloud": 0.90}  # EUR/h
TARGETS = ("time", "memory", "quality")
QUALITY, MEMORY, BUDGET = 6.0, 200.0, 0.0008  # the spec's constraints


def _generator():
    scripts = REPO / "scripts"
    if str(scripts) not in sys.path:
        sys.path.append(str(scripts))  # the generators' own helpers
    path = scripts / "make_transprecision_data.py"
    spec = importlib.util.spec_from_file_location("make_transprecision_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _spec_at(folder: Path, text: str, data: Path = DATA) -> Path:
    path = folder / "spec.hada"
    path.write_text(text.replace('"data/transprecision/', f'"{data}/'))
    return path


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> BuildDir:
    folder = tmp_path_factory.mktemp("transprecision")
    return BuildDir(compile_spec(_spec_at(folder, SPEC.read_text()), folder / "b").directory)


def _enumerated_best(directory: Path, params: int, high: int, quality: float):
    """The least time over every setting of `params` variables in 4..`high` on every
    pair with at least `quality`, or None."""
    domains = {a: (range(4, high + 1),) * params for a in ALGORITHMS}
    pairs = itertools.product(ALGORITHMS, PLATFORMS)
    rows = list(configurations(directory, pairs, domains, TARGETS, shared=("quality",)))

    def value(row):
        p = row.predicted
        cost = PRICE[row.hardware] * p["time"] / 3600
        ok = p["quality"] >= quality and p["memory"] <= MEMORY and cost <= BUDGET
        return p["time"] if ok else None

    return rows, optimum(rows, value)


def _check(build: BuildDir, solver: str, params: int, high=52, quality=QUALITY) -> None:
    answer = solve_build(build, solver)
    rows, best = _enumerated_best(build.directory, params, high, quality)
    assert answer.status == "OPTIMAL"
    assert answer.objective == pytest.approx(best, rel=1e-6)
    point = answer.point
    chosen = (point.algorithm, point.hardware, tuple(map(float, point.params.values())))
    row = next(r for r in rows if (r.algorithm, r.hardware, r.point) == chosen)
    assert point.predicted == pytest.approx(row.predicted, rel=1e-9)


def test_the_quality_is_fitted_once_per_algorithm_and_shared(build):
    manifest = build.manifest
    models = {(s.algorithm, s.hardware, s.target): s for s in manifest.surrogates}
    for algorithm in ALGORITHMS:
        quality = [models[(algorithm, h, "quality")] for h in PLATFORMS]
        assert {(s.model, s.shared, s.rows) for s in quality} == {
            (f"models/{algorithm}-quality.joblib", True, 1200)
        }
        times = {models[(algorithm, h, "time")].model for h in PLATFORMS}
        assert len(times) == 3 and not any(models[(algorithm, h, "time")].shared for h in PLATFORMS)
    shared = [d for d in manifest.data if d.hardware is None]
    assert [(d.algorithm, Path(d.file).name, d.rows) for d in shared] == [
        (a, f"{a}_quality.csv", 1200) for a in ALGORITHMS
    ]
    assert len(list((build.directory / "models").glob("*-quality.joblib"))) == 2
    assert not build.changes()


def test_check_show_the_report_and_the_description_say_it_is_shared(build, tmp_path):
    checked = CliRunner().invoke(main, ["check", str(SPEC)])
    assert "6 benchmark files (and 2 for every hardware)" in checked.output
    shown = CliRunner().invoke(main, ["show", str(build.directory)])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("(shared") == 2  # one row per algorithm, however wide the table
    spec = _spec_at(tmp_path, SPEC.read_text())
    figures = {f["name"]: f for f in fit_figures(compile_spec(spec, tmp_path / "b"))}
    assert [(r["algorithm"], r["hardware"]) for r in figures["quality"]["rows"]] == [
        (a, "every hardware (shared data)") for a in ALGORITHMS
    ]
    assert len(figures["time"]["rows"]) == 6
    described = {t.name: t.shared_by for t in Study(build).describe().targets}
    assert described == {"time": (), "memory": (), "quality": ALGORITHMS}


@pytest.mark.parametrize(
    "solver",
    [
        pytest.param("cbc", marks=pytest.mark.requires_solver("cbc")),
        pytest.param("highs", marks=pytest.mark.requires_solver("highs")),
    ],
)
def test_mip_answers_equal_enumeration(build, solver):
    assert build.manifest.model.shape == "mip"
    _check(build, solver, params=3)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> BuildDir:
    """Two variables in 4..24, 300 rows a file: 2 x 3 x 21² configurations, an enumerated
    model (small enough for the bundled HiGHS to prove its optimum in seconds); at most 24
    bits, the quality asked for is 4 digits."""
    folder = tmp_path_factory.mktemp("small")
    _generator().write(folder / "data", params=2, rows=300)
    text = edited(SPEC.read_text(), ("quality >= 6", "quality >= 4"))
    lines = text.replace("int in 4..52", "int in 4..24").splitlines(True)
    text = "".join(line for line in lines if "var_2" not in line)
    spec = _spec_at(folder, text, folder / "data")
    return BuildDir(compile_spec(spec, folder / "b").directory)


@pytest.mark.parametrize("solver", ["gecode", "cbc", "highs", "chuffed"])
def test_enumerated_answers_equal_enumeration(small, solver):
    from conftest import solver_missing

    if reason := solver_missing(solver):
        pytest.skip(reason)
    assert small.manifest.model.shape == "enumerated"
    _check(small, solver, params=2, high=24, quality=4.0)


def test_the_generator_is_seeded_and_writes_whole_files(tmp_path):
    generator = _generator()
    first = generator.write(tmp_path / "a", params=2, rows=50)
    second = generator.write(tmp_path / "b", params=2, rows=50)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(p.name for p in first)
    assert (tmp_path / "a" / "saxpy_quality.csv").read_text().startswith("var_0,var_1,quality\n")


# ---- errors ----

TINY = """spec shared
hardware a { cores = 1 }
hardware b { cores = 2 }
algorithm k {
  param n: int in 1..10
  data   = "quality.csv"
  data a = "k_a.csv"
  data b = "k_b.csv"
}
target time    = "time" in s ~ tree(max_depth = 3)
target quality = "q"    in dimensionless ~ tree(max_depth = 3)
minimize time
constraint quality >= 1
"""


def _data(folder: Path, name: str, columns: str) -> None:
    lines = [columns] + [",".join(str(n * (i + 1)) for i in range(columns.count(",") + 1))
                         for n in range(1, 11)]  # fmt: skip
    (folder / name).write_text("\n".join(lines) + "\n")


def _errors(tmp_path: Path, text: str) -> str:
    spec = tmp_path / "spec.hada"
    spec.write_text(text)
    with pytest.raises(HadacError) as caught:
        compile_spec(spec, tmp_path / "b")
    return str(caught.value)


def test_a_column_in_both_files_is_an_error_naming_both(tmp_path):
    _data(tmp_path, "quality.csv", "n,q")
    _data(tmp_path, "k_a.csv", "n,time,q")
    _data(tmp_path, "k_b.csv", "n,time")
    message = _errors(tmp_path, TINY)
    assert 'spec.hada:7:12: error: column "q" is in both k_a.csv and quality.csv (line 6' in (
        message
    )
    assert message.count("error:") == 1


def test_other_bad_forms_of_shared_data_are_located(tmp_path):
    _data(tmp_path, "quality.csv", "n,other")
    _data(tmp_path, "k_a.csv", "n,time,q")
    _data(tmp_path, "k_b.csv", "n,time,q")
    message = _errors(
        tmp_path, edited(TINY, ('  data   = "quality.csv"\n', '  data = "quality.csv"\n' * 2))
    )
    assert "spec.hada:7:3: error: a second hardware-independent data file" in message
    assert 'spec.hada:6:10: error: quality.csv has the column of no target ("time", "q")' in (
        message
    )
    only = edited(TINY, ('  data a = "k_a.csv"\n  data b = "k_b.csv"\n', ""))
    assert "spec.hada:4:11: error: algorithm 'k' has no data" in _errors(tmp_path, only)


def test_a_shared_target_needs_the_params_in_its_file(tmp_path):
    _data(tmp_path, "quality.csv", "m,q")
    _data(tmp_path, "k_a.csv", "n,time")
    _data(tmp_path, "k_b.csv", "n,time")
    message = _errors(tmp_path, TINY)
    assert 'spec.hada:6:12: error: quality.csv has no column "n"' in message


@pytest.mark.requires_solver("cbc")
def test_shared_data_with_a_str_param(tmp_path):
    """A str param in the shared file: its pipeline takes the names, every pair uses it, and
    a name no shared row has is a warning about the shared file."""
    rows = [(n, e) for n in range(1, 11) for e in ("x", "y")]
    (tmp_path / "quality.csv").write_text(
        "n,e,q\n" + "".join(f"{n},{e},{n * (2 if e == 'x' else 1)}\n" for n, e in rows)
    )
    for hw, speed in (("a", 1), ("b", 2)):
        (tmp_path / f"k_{hw}.csv").write_text(
            "n,e,time\n" + "".join(f"{n},{e},{n * speed + (e == 'y')}\n" for n, e in rows)
        )
    spec = tmp_path / "spec.hada"
    spec.write_text(
        edited(
            TINY,
            ("  param n: int in 1..10\n", '  param n: int in 1..10\n  param e: str in {"x","y"}\n'),
            ("constraint quality >= 1", "constraint quality >= 12"),
        )
    )
    build = compile_spec(spec, tmp_path / "b")
    assert {s.model for s in build.manifest.surrogates if s.target == "quality"} == {
        "models/k-quality.joblib"
    }
    answer = solve_build(BuildDir(build.directory), "cbc")
    assert answer.status == "OPTIMAL" and answer.point.hardware == "a"
    assert answer.point.params == {"n": 6, "e": "x"}  # the least n with 2n >= 12, on speed 1
