"""Str params (`param engine: str in {"lne", "onnxruntime", "tflite"}`): their errors, their
names in the data, the pipelines that take names, and optimality against enumeration.

Random small specs with str params (and an int one) are compiled twice, enumerated and as
a MIP model (`encoding = structure` on every target), and solved by every solver of each
shape; the optimum is compared with an enumeration that asks the saved pipelines, by name,
for every configuration whose names the pair's data hold (tests/oracles.py does the same
for numeric params).
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO, edited
from oracles import optimum

import hadac
from hadac import solvers as solver_table
from hadac import surrogates
from hadac.builddir import BuildDir
from hadac.checks import check
from hadac.cli import main
from hadac.compiler import compile_spec, model_file_name
from hadac.errors import HadacError
from hadac.parser import parse
from hadac.solve import solve_build

# ---- errors: every one located ----

# Line numbers, for reading the expected messages:
#   1 spec s
#   2 hardware hw { cores = 4 }
#   3 algorithm alg {
#   4   param engine: str in {"lne", "tflite"}
#   5   param n: int in {1, 2}
#   6   data hw = "a.csv"
#   7 }
#   8 target time = "t" in s ~ tree(max_depth = 3)
#   9 minimize time
BASE = """spec s
hardware hw { cores = 4 }
algorithm alg {
  param engine: str in {"lne", "tflite"}
  param n: int in {1, 2}
  data hw = "a.csv"
}
target time = "t" in s ~ tree(max_depth = 3)
minimize time
"""
ENGINE = 'param engine: str in {"lne", "tflite"}'
A_CSV = "engine,n,t\n" + "".join(
    f"{engine},{n},{1 + n + (2 if engine == 'lne' else 0) + 0.1 * k:.1f}\n"
    for k in range(4)
    for engine, n in itertools.product(("lne", "tflite"), (1, 2))
)


def _check(folder: Path, spec: str, data: str = A_CSV):
    (folder / "a.csv").write_text(data)
    path = folder / "s.hada"
    path.write_text(spec)
    return check(parse(spec, path))


def _errors(folder: Path, spec: str, data: str = A_CSV) -> list[str]:
    with pytest.raises(HadacError) as error:
        _check(folder, spec, data)
    return [d.format().split("\n")[0] for d in error.value.diagnostics]


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (
            'param engine: str in {"lne", "tflite", "lne"}',
            "s.hada:4:42: error: the value 'lne' appears twice in the set of 'engine'",
        ),
        ("param engine: str in {}", "s.hada:4:24: error: the set of values of 'engine' is empty"),
        (
            "param engine: str in 1..3",
            "s.hada:4:24: error: str param 'engine' takes a set of names in quotes,"
            ' like {"lne", "tflite"}, not numbers',
        ),
        (
            "param engine: str in {1, 2}",
            "s.hada:4:25: error: str param 'engine' takes a set of names in quotes,"
            ' like {"lne", "tflite"}, not numbers',
        ),
        (
            'param engine: int in {"lne", "tflite"}',
            "s.hada:4:25: error: int param 'engine' takes numbers; declare it"
            " `engine: str` to choose among names",
        ),
        (
            'param engine: str in {"lne", " tflite"}',
            "s.hada:4:32: error: the value ' tflite' of 'engine' is empty or has spaces at an end",
        ),
    ],
)
def test_malformed_declarations_are_located(tmp_path, declared, expected):
    errors = _errors(tmp_path, edited(BASE, (ENGINE, declared)))
    assert errors == [str(tmp_path / expected)]


def test_an_input_is_never_a_str(tmp_path):
    spec = edited(BASE, ("  data hw", "  input day: str in 1..3\n  data hw"))
    errors = _errors(tmp_path, spec)
    assert errors == [
        f"{tmp_path / 's.hada'}:6:9: error: input 'day' is a feature of the instance:"
        " its type is int or float"
    ]


def test_a_name_not_in_the_set_is_located_by_file_row_and_column(tmp_path):
    data = A_CSV.replace("tflite,2,", "onnx,2,", 2)
    errors = _errors(tmp_path, BASE, data)
    assert errors == [
        f"{tmp_path / 'a.csv'}:5: column \"engine\": error: 'onnx' is not one of the values"
        " of 'engine' (lne, tflite) (1 more bad row in this column)"
    ]


def test_an_empty_name_is_located(tmp_path):
    data = A_CSV.replace("lne,1,", ",1,", 1)
    errors = _errors(tmp_path, BASE, data)
    assert errors == [
        f'{tmp_path / "a.csv"}:2: column "engine": error: empty value; expected one of the'
        " values of 'engine' (lne, tflite)"
    ]


def test_check_notes_a_name_without_rows(tmp_path):
    spec = edited(BASE, (ENGINE, 'param engine: str in {"lne", "tflite", "tvm"}'))
    problem, reporter = _check(tmp_path, spec)
    assert [d.format().split("\n")[0] for d in reporter.warnings] == [
        f'{tmp_path / "s.hada"}:6:13: warning: a.csv has no row with engine = "tvm":'
        " never chosen for alg on hw"
    ]
    algorithm = problem.algorithms[0]
    assert algorithm.params[0].labels == ("lne", "tflite", "tvm")
    assert sorted(set(algorithm.points(problem.pairs[0].table)[:, 0])) == [0.0, 1.0]


@pytest.mark.requires_solver("gecode")
def test_names_that_are_no_identifiers_are_enum_members_by_position(tmp_path):
    """Any text is a name; the model's enum member stands for it by its position when the
    name cannot be part of an identifier, and the answer shows the name as written."""
    odd = ("onnx-runtime", "tf lite */", "1.0")
    spec = edited(BASE, (ENGINE, f"param engine: str in {{{', '.join(map(json.dumps, odd))}}}"))
    data = A_CSV.replace("lne,", f"{odd[0]},").replace("tflite,", f'"{odd[1]}",')
    (tmp_path / "a.csv").write_text(data)
    (tmp_path / "s.hada").write_text(spec)
    build = compile_spec(tmp_path / "s.hada", tmp_path / "build")
    model = (build.directory / "model.mzn").read_text()
    assert "enum NAMES_alg_engine = {nameat_alg_engine_1, nameat_alg_engine_2," in model
    assert "*/" not in model
    answer = solve_build(BuildDir(build.directory), "gecode")
    assert answer.point.params == {"engine": "tf lite */", "n": 1}  # t is least there


# ---- the example: specs/edge-ai.hada ----

EDGE = REPO / "specs" / "edge-ai.hada"
NAMES = {
    "model": ("mobilenet", "resnet18", "efficientnet"),
    "engine": ("lne", "onnxruntime", "tflite"),
    "precision": ("F32", "F16", "INT8"),
}
EDGE_TARGETS = ("time", "memory", "accuracy", "energy")


@pytest.fixture(scope="module")
def edge(tmp_path_factory) -> Path:
    return compile_spec(EDGE, tmp_path_factory.mktemp("edge") / "build").directory


def test_saved_pipelines_take_names(edge):
    build = BuildDir(edge)
    rows = np.array([["efficientnet", "tflite", "INT8", 4], ["resnet18", "lne", "F32", 1]], object)
    codes = np.array([[2, 2, 2, 4], [1, 0, 0, 1]], dtype=float)
    for target in EDGE_TARGETS:
        model = joblib.load(edge / "models" / model_file_name("classify", "pi4", target))
        by_name = model.predict(rows)
        assert np.array_equal(by_name, build.predict_rows("classify", "pi4", codes, target))
        assert build.manifest.surrogate("classify", "pi4", target).predictor.exact
    with pytest.raises(ValueError, match="unknown categor"):
        model.predict(np.array([["efficientnet", "tvm", "INT8", 4]], object))


@pytest.mark.requires_solver("gecode")
def test_json_answer_shows_names(edge):
    result = CliRunner().invoke(main, ["solve", str(edge), "--json"])
    assert result.exit_code == 0, result.output
    choice = json.loads(result.stdout)["choice"]
    assert choice["hardware"] == "phone"
    for name, values in NAMES.items():
        assert choice["params"][name] in values
    assert isinstance(choice["params"]["threads"], int)
    shown = CliRunner().invoke(main, ["solve", str(edge)])
    assert f"engine     {choice['params']['engine']}" in shown.output


@pytest.mark.requires_solver("gecode")
def test_api_answers_and_describes_with_names(edge):
    study = hadac.load(edge)
    answer = study.solve(solver="gecode")
    assert answer.point.params["precision"] in NAMES["precision"]
    assert answer.to_json()["choice"]["params"] == answer.point.params
    (algorithm,) = study.describe().algorithms
    params = {p.name: p for p in algorithm.params}
    assert params["engine"].type == "str" and params["engine"].values == NAMES["engine"]


def test_enumerated_model_has_an_enum_and_never_a_name_without_data(edge):
    model = (edge / "model.mzn").read_text()
    assert (
        "enum NAMES_classify_engine = {name_classify_engine_lne,"
        " name_classify_engine_onnxruntime, name_classify_engine_tflite};"
    ) in model
    build = BuildDir(edge)
    pairs = build.tables["pair"]
    engine = build.tables["PARAM_classify_engine"]
    precision = build.tables["PARAM_classify_precision"]
    lacks = {"pi4": (precision, 1), "jetson": (engine, 0), "nuc": (engine, 2)}
    for index, pair in enumerate(build.manifest.pairs, start=1):
        if pair.hardware in lacks:
            column, code = lacks[pair.hardware]
            assert code not in set(column[pairs == index].tolist()), pair.hardware
    phone = 4
    assert set(engine[pairs == phone].tolist()) == {0.0, 2.0}  # no onnxruntime
    assert set(precision[pairs == phone].tolist()) == {1.0, 2.0}  # no F32


def test_a_name_reads_back_from_a_manifest(edge):
    records = {p.name: p for p in BuildDir(edge).manifest.params["classify"]}
    assert records["engine"].values == NAMES["engine"]
    assert records["engine"].code("tflite") == 2.0
    assert records["threads"].values is None and records["threads"].code(4) == 4.0


# ---- optimality against enumeration, every kind, both shapes, every solver ----


def by_name(
    build: Path, algorithm: str, hardware: str, domains: Sequence[Sequence], targets: Sequence
) -> Iterator[tuple[str, tuple, dict[str, float]]]:
    """Every configuration of one pair whose params range over `domains` (a str param's
    names, in the order declared), with what the pipelines the build saved predict there,
    asked by name: (hardware, params, predictions)."""
    points = list(itertools.product(*domains))
    x = np.array(points, dtype=object)
    predicted = {
        t: joblib.load(build / "models" / model_file_name(algorithm, hardware, t)).predict(x)
        for t in targets
    }
    for i, point in enumerate(points):
        yield hardware, point, {t: float(column[i]) for t, column in predicted.items()}


@pytest.mark.requires_solver
@pytest.mark.parametrize("solver", solver_table.names())
def test_the_example_equals_enumeration_on_every_solver(edge, solver):
    """specs/edge-ai.hada against every configuration whose names its device's data hold,
    read from the CSVs themselves."""
    rows = []
    for hardware in ("pi4", "jetson", "nuc", "phone"):
        with (REPO / "specs" / "data" / "edge-ai" / f"{hardware}.csv").open() as file:
            data = list(csv.DictReader(file))
        domains = [[n for n in names if any(r[p] == n for r in data)] for p, names in NAMES.items()]
        rows += by_name(edge, "classify", hardware, [*domains, (1, 2, 4)], EDGE_TARGETS)

    def value(row) -> float | None:
        p = row[2]
        feasible = p["time"] <= 40 and p["memory"] <= 64 and p["accuracy"] >= 70
        return p["energy"] if feasible else None

    answer = solve_build(BuildDir(edge), solver)
    assert answer.status == "OPTIMAL"
    assert answer.objective == pytest.approx(optimum(rows, value), rel=1e-6)
    chosen = (answer.point.hardware, tuple(answer.point.params.values()))
    (row,) = [r for r in rows if r[:2] == chosen]  # a configuration whose names have data
    assert value(row) == pytest.approx(answer.objective, rel=1e-6)


def _written(value: object) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, tuple) else repr(value)


KINDS = [
    (name, ", ".join(f"{arg} = {_written(v)}" for arg, v in kind.example.items()))
    for name, kind in surrogates.KINDS.items()
]
TARGETS = ("t0", "t1", "t2", "t3")
ENGINES = ("lne", "onnx", "tfl")
PRECISIONS = ("F32", "F16", "INT8")
THREADS = (1, 2, 4)


@dataclass(frozen=True)
class Case:
    build: Path
    shape: str
    expected: float | None
    present: dict[str, dict[str, set[str]]]  # by machine: each str param's names in its data


def _case(seed: int, folder: Path, structure: bool) -> Case:
    """Three machines, one algorithm with two str params and an int one; each machine's
    data lack a name or two, drawn at random. Targets rotate through every kind."""
    rng = np.random.default_rng(seed)
    machines = ["m0", "m1", "m2"]
    prices = {m: round(float(rng.uniform(0.5, 3.0)), 2) for m in machines}
    effects = {n: rng.uniform(0.0, 4.0, len(TARGETS)) for n in ENGINES + PRECISIONS}
    lines = [f"spec cat{seed}"] + [
        f"hardware {m} {{ price = {prices[m]} EUR/h }}" for m in machines
    ]
    lines += [
        "algorithm alg {",
        f"  param engine: str in {{{', '.join(f'{chr(34)}{e}{chr(34)}' for e in ENGINES)}}}",
        f"  param precision: str in {{{', '.join(f'{chr(34)}{p}{chr(34)}' for p in PRECISIONS)}}}",
        f"  param threads: int in {{{', '.join(map(str, THREADS))}}}",
    ]
    present = {}
    for m in machines:
        drop = int(rng.integers(0, 4))  # 3: none; m0 has every engine
        engines = [e for i, e in enumerate(ENGINES) if i != drop or m == "m0"]
        precisions = [p for p in PRECISIONS if rng.uniform() > 0.25] or ["F32"]
        present[m] = {"engine": set(engines), "precision": set(precisions)}
        rows = ["engine,precision,threads," + ",".join(TARGETS)]
        for engine, precision, threads in itertools.product(engines, precisions, THREADS):
            for _ in range(2):
                ys = effects[engine] + effects[precision] + threads * rng.uniform(0.2, 1.0, 4)
                ys += rng.normal(0.0, 0.2, 4) + 5.0
                rows.append(f"{engine},{precision},{threads}," + ",".join(f"{y:.4f}" for y in ys))
        (folder / f"{m}.csv").write_text("\n".join(rows) + "\n")
        lines.append(f'  data {m} = "{m}.csv"')
    lines.append("}")
    encoding = "encoding = structure" if structure else ""
    for index, t in enumerate(TARGETS):
        name, args = KINDS[(seed + index) % len(KINDS)]
        lines.append(
            f'target {t} = "{t}" in s ~ {name}({", ".join(filter(None, (args, encoding)))})'
        )
    use_price = bool(seed % 2)
    lines.append("minimize price * t0" if use_price else "minimize t0")
    bounds = {"t1": float(rng.uniform(10.0, 12.0)), "t2": float(rng.uniform(10.0, 12.0))}
    lines += [f"constraint {t} <= {b:.3f} s" for t, b in bounds.items()]
    spec = folder / "spec.hada"
    spec.write_text("\n".join(lines) + "\n")
    build = compile_spec(spec, folder / "build")

    def rows():
        for m in machines:
            engines = [e for e in ENGINES if e in present[m]["engine"]]
            precisions = [p for p in PRECISIONS if p in present[m]["precision"]]
            domains = (engines, precisions, THREADS)
            yield from by_name(build.directory, "alg", m, domains, TARGETS)

    def value(row) -> float | None:
        machine, _, p = row
        if not all(p[t] <= round(b, 3) for t, b in bounds.items()):
            return None
        return prices[machine] * p["t0"] / 3600 if use_price else p["t0"]

    expected = optimum(rows(), value)
    return Case(build.directory, build.manifest.model.shape, expected, present)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int, bool], Case]:
    made: dict[tuple[int, bool], Case] = {}

    def case(seed: int, structure: bool) -> Case:
        if (seed, structure) not in made:
            folder = tmp_path_factory.mktemp(f"cat{seed}-{structure}")
            made[(seed, structure)] = _case(seed, folder, structure)
        return made[(seed, structure)]

    return case


SHAPES = [(False, s) for s in solver_table.names()]
SHAPES += [(True, s) for s in solver_table.of_family("MIP")]


@pytest.mark.requires_solver
@pytest.mark.parametrize(("structure", "solver"), SHAPES)
@pytest.mark.parametrize("seed", range(2))  # the two seeds draw every kind
def test_optimum_equals_enumeration_by_name(seed, structure, solver, cases):
    case = cases(seed, structure)
    assert case.shape == ("mip" if structure else "enumerated")
    answer = solve_build(BuildDir(case.build), solver)
    if case.expected is None:
        assert answer.status == "INFEASIBLE", solver
        return
    assert answer.status == "OPTIMAL", solver
    assert answer.objective == pytest.approx(case.expected, rel=1e-6), (solver, case.shape)
    point = answer.point
    for name in ("engine", "precision"):
        assert point.params[name] in case.present[point.hardware][name], (solver, point.params)


@pytest.mark.parametrize("seed", range(2))
def test_every_kind_has_an_exact_numpy_predictor_with_names(seed, cases):
    """The pipelines' one-hot step repeated in numpy (`hadac.onehot.encode`) keeps every
    kind's predictor equal to `predict` to the bit, so verifying needs no scikit-learn."""
    manifest = BuildDir(cases(seed, True).build).manifest
    assert all(s.predictor is not None and s.predictor.exact for s in manifest.surrogates)
