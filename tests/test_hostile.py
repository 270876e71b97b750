"""A corpus of specs with hostile names, and of malformed specs and CSVs, through the CLI.

Names a user may pick that clash with MiniZinc (its keywords, its library's globals), with
Python, or with what hadac itself generates (`VALUE_x`, `rank_x`, `PARAM_a_b`, `config`),
and pairs of names that an escaping could mangle alike, go in every position of small
specs. `check` and `solve` run in this one process on each: none may be an internal error
(exit 70) or a traceback, and every answer must come out OPTIMAL and verified. Then a
corpus of malformed specs and CSVs, where a located error is the right answer.
"""

from __future__ import annotations

import json
import keyword
import random
import re

import pytest
from click.testing import CliRunner

from hadac.cli import main

MINIZINC_KEYWORDS = (
    "ann annotation any array bool case constraint default diff div else elseif endif enum"
    " false float function if in include int intersect let list maximize minimize mod not of"
    " op opt output par predicate record satisfy set solve string subset superset symdiff"
    " test then true tuple type union var where xor"
).split()
MINIZINC_GLOBALS = (
    "sum max min abs forall exists int2float bool2int array1d array2d index_set length"
    " all_different alldifferent add_to_output output_only show fix lb ub dom card"
    " exp ln log sqrt pow count table element among cumulative circuit"
).split()
HADAC_GENERATED = (
    "VALUE_x VALUE_time RANK_x RANK_time rank_x rank_time PARAM_a_b PARAM_a_b_c POINT_a_b"
    " point_a param_a_b target_x hw_x alg_x run pair config hardware algorithm objective"
    " objective_scaled goal CONFIG HARDWARE ALGORITHM PAIR N_CONFIGS CONFIG_HARDWARE"
    " CONFIG_ALGORITHM y_s1 g_s1 s1 s1_TABLE s1_LEAF s1_l1 LIMIT_constraint_1"
    " constraint_line_5 VALUE__objective rank__goal"
).split()
UNDERSCORES = "_ __ ___ __init__ _a a_ a__ __a a__b a_b _x_ x0 var_ var__ int_".split()
HOSTILE = sorted(
    set(MINIZINC_KEYWORDS + MINIZINC_GLOBALS + HADAC_GENERATED + UNDERSCORES + keyword.kwlist)
)
POSITIONS = ("spec", "hardware", "algorithm", "param", "target", "let", "attribute")
# Pairs that a careless mangling maps to one identifier, for one spec each.
ALIKE = [
    {"hardware": ("var", "var_")},
    {"hardware": ("a_b", "a__b")},
    {"hardware": ("x", "_x")},
    {"hardware": ("int", "int_")},
    {"algorithms": (("a", "b_c"), ("a_b", "c"))},
    {"algorithms": (("a_", "b"), ("a", "_b"))},
    {"algorithms": (("x", "y"), ("x_", "y"))},
    {"same": "shared"},
    {"same": "var"},
    {"same": "_"},
]
SPEC_KEYWORDS = {
    "spec hardware algorithm param data target minimize maximize constraint let solver"
    " with confidence in int float run instances bench encoding"
}
ROWS = 30


def _csv(params: list[str], target_column: str, seed: int) -> str:
    rng = random.Random(seed)
    lines = [",".join([*params, f'"{target_column}"'])]
    for i in range(ROWS):
        x = 1 + i % 5
        lines.append(",".join([*(str(x) for _ in params), repr(10.0 + 3 * x + rng.random())]))
    return "\n".join(lines) + "\n"


COLUMN = "measured(s)"  # no name can be this, so no param's column is the target's


def _spec(folder, names: dict, hardware: tuple[str, ...], algorithms, seed: int):
    """A small spec and its CSVs: `algorithms` is a tuple of (algorithm, param) names."""
    lines = [f"spec {names['spec']}"]
    attribute = names["attribute"]
    for i, h in enumerate(hardware):
        lines.append(f"hardware {h} {{ {attribute} = {1 + i} EUR/h }}")
    for j, (a, p) in enumerate(algorithms):
        lines.append(f"algorithm {a} {{\n  param {p}: int in 1..5")
        for i, h in enumerate(hardware):
            path = folder / f"d{j}_{i}.csv"
            path.write_text(_csv([p], COLUMN, seed + 7 * i + j))
            lines.append(f'  data {h} = "{path.name}"')
        lines.append("}")
    target, let = names["target"], names["let"]
    lines.append(f'target {target} = "{COLUMN}" in s ~ tree(max_depth = 2)')
    lines.append(f"let {let} = {target} * {attribute}")
    lines.append(f"minimize {let}")
    lines.append(f"constraint {target} <= 1000 s")
    lines.append("solver gecode")
    spec = folder / "hostile.hada"
    spec.write_text("\n".join(lines) + "\n")
    return spec


def _cases() -> list[dict]:
    """Hostile names in every position at once, each name in each position several times
    (positions take the list at different offsets, so one spec never repeats a name), then
    the pairs that mangle alike."""
    cases = []
    stride = len(HOSTILE) // len(POSITIONS)
    for k in range(3 * len(HOSTILE)):
        names = {
            position: HOSTILE[(k + i * stride) % len(HOSTILE)]
            for i, position in enumerate(POSITIONS)
        }
        cases.append(
            {
                "names": names,
                "hardware": (names["hardware"], "other"),
                "algorithms": ((names["algorithm"], names["param"]),),
                "seed": k,
            }
        )
    base = {"spec": "s", "target": "tgt", "let": "total", "attribute": "price"}
    for k, alike in enumerate(ALIKE):
        hardware = alike.get("hardware", ("h1", "h2"))
        algorithms = alike.get("algorithms", (("alg", "p"),))
        if "same" in alike:
            hardware, algorithms = (alike["same"], "other"), ((alike["same"], "p"),)
        cases.append({"names": base, "hardware": hardware, "algorithms": algorithms, "seed": k})
    return cases


CASES = _cases()


def _run(runner: CliRunner, args: list[str]):
    result = runner.invoke(main, args, catch_exceptions=True)
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code != 70, text
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def _hostile_words() -> set[str]:
    return set(HOSTILE)


def test_the_corpus_is_large_and_covers_every_position():
    assert len(CASES) >= 500
    for position in POSITIONS:
        placed = {c["names"].get(position) for c in CASES}
        assert _hostile_words() <= placed | SPEC_KEYWORDS


@pytest.mark.parametrize("chunk", range(5))
def test_hostile_names_check_and_solve_to_a_verified_optimum(chunk, tmp_path):
    runner = CliRunner()
    solved = 0
    for index, case in enumerate(CASES[chunk::5]):
        folder = tmp_path / str(index)
        folder.mkdir()
        spec = _spec(folder, case["names"], case["hardware"], case["algorithms"], case["seed"])
        checked = _run(runner, ["check", str(spec)])
        if checked.exit_code != 0:  # a name the spec language keeps for itself
            assert re.search(r"hostile\.hada:\d+:\d+", checked.output), checked.output
            continue
        result = _run(runner, ["solve", str(spec), "--json", "-o", str(folder / "build")])
        answer = json.loads(result.stdout)
        assert result.exit_code == 0 and answer["status"] == "OPTIMAL", (spec.read_text(), answer)
        solved += 1
    assert solved >= len(CASES[chunk::5]) * 0.8


BROKEN_CSVS = [
    "",
    "p\n",
    "p,y\n",
    "y\n1.0\n",
    "p,y\n1,\n2,3\n",
    "p,y\n1,abc\n2,3\n",
    "p,y\n1,nan\n2,inf\n",
    "p,p,y\n1,1,2\n",
    "p,y,y\n1,2,3\n",
    'p,y\n1,"2\n',
    "p;y\n1;2\n",
    "\ufeffp,y\n1,2\n2,3\n",
    "p,y\n1,2,3,4\n",
    "p,y\n1e400,2\n",
    "p,y\n-1,2\n99,3\n",
    "p,y\n" + "1,2\n" * 2,
    "p,y\n\x00,1\n",
    "p,y\r\n1,2\r\n3,4\r\n",
    "p,y\n1.5,2\n2.5,3\n",
    '"p\n",y\n1,2\n',
    "p,y\n" + "\n" * 5,
    "P,Y\n1,2\n",
    "p,y\n1,2\n\n\n3,4\n",
    "p,y\n1,-\n",
    "p,y\n1,1_000\n",
]


# The names of a spec with nothing hostile in it, for tests whose hostility is elsewhere.
PLAIN_NAMES = {
    "spec": "s",
    "hardware": "h",
    "algorithm": "alg",
    "param": "p",
    "target": "tgt",
    "let": "total",
    "attribute": "price",
}


def _malformed(folder) -> list[tuple[str, dict[str, str]]]:
    """Specs broken at many places (truncated, a token dropped, a line doubled), and valid
    specs over broken CSVs: (spec text, CSV name -> text)."""
    names = PLAIN_NAMES
    spec = _spec(folder, names, ("h", "other"), (("alg", "p"),), 0)
    text = spec.read_text()
    csvs = {f.name: f.read_text() for f in folder.glob("*.csv")}
    cases = []
    for cut in range(0, len(text), max(1, len(text) // 50)):
        cases.append((text[:cut], csvs))
    tokens = text.split(" ")
    for i in range(0, len(tokens), max(1, len(tokens) // 40)):
        cases.append((" ".join(tokens[:i] + tokens[i + 1 :]), csvs))
    lines = text.split("\n")
    for i in range(len(lines)):
        cases.append(("\n".join(lines[: i + 1] + lines[i:]), csvs))
    for broken in BROKEN_CSVS:
        for which in ("d0_0.csv", "d0_1.csv"):
            cases.append((text, {**csvs, which: broken}))
        cases.append((text.replace('"y"', '"missing"'), {**csvs, "d0_0.csv": broken}))
    return cases


def test_malformed_specs_and_csvs_are_errors_or_verified_answers(tmp_path):
    runner = CliRunner()
    cases = _malformed(tmp_path)
    assert len(cases) >= 150
    for index, (text, csvs) in enumerate(cases):
        folder = tmp_path / f"m{index}"
        folder.mkdir()
        for name, content in csvs.items():
            (folder / name).write_text(content, newline="")
        spec = folder / "broken.hada"
        spec.write_text(text)
        if _run(runner, ["check", str(spec)]).exit_code != 0:
            continue
        result = _run(runner, ["solve", str(spec), "--json", "-o", str(folder / "build")])
        if result.exit_code == 0:
            wanted = "OPTIMAL" if "\nminimize" in text else "FEASIBLE"  # without a goal
            assert json.loads(result.stdout)["status"] == wanted, text


@pytest.mark.parametrize(
    "stem", ["a\nconstraint false;\n% b", 'quote"d', "50%", '"""', "\\N{x}\\u12", "é ü"]
)
def test_hostile_file_names_cannot_break_the_model(stem, tmp_path):
    names = PLAIN_NAMES
    spec = _spec(tmp_path, names, ("h", "other"), (("alg", "p"),), 1)
    hostile = tmp_path / f"{stem}.hada"
    spec.rename(hostile)
    result = _run(CliRunner(), ["solve", str(hostile), "--json", "-o", str(tmp_path / "build")])
    assert result.exit_code == 0 and json.loads(result.stdout)["status"] == "OPTIMAL"
    model = (tmp_path / "build" / "model.mzn").read_text()
    lines = model.split("\n")
    assert not any(line.startswith(("constraint false", "% b.hada")) for line in lines)
    assert model.split("\n", 1)[0].startswith("% hadac model of spec")
