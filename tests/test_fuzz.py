"""Fuzzing the front end: whatever the text, `parse` + `check` end in a result or a `HadacError`.

Inputs: random text (arbitrary characters, and soups of the language's own
tokens), mutations of the example specs (tokens or lines deleted, duplicated, swapped,
characters inserted, numbers changed, braces dropped), mutations of a benchmark CSV and of
one whose columns hold str params' names, expression chains of up to 1,500 operators, and
specs named with hostile names: about 10,800 inputs a run.
Any exception other than `HadacError` is a bug in the front end; so is a diagnostic that
cannot be formatted. Runs are derandomized so CI sees the same examples every time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hadac.checks import check
from hadac.errors import Diagnostic, HadacError
from hadac.parser import parse

SPECS = Path(__file__).resolve().parent.parent / "specs"
EXAMPLES = {
    name: (SPECS / name).read_text()
    for name in (
        "tiny.hada",
        "usage-cost.hada",
        "instances.hada",
        "edge-ai.hada",
        "transprecision.hada",
    )
}

# CI runs a fixed, reproducible set of examples. To search deeper, with fresh random examples:
#   HADAC_FUZZ_SCALE=20 HADAC_FUZZ_RANDOM=1 pytest tests/test_fuzz.py
SCALE = int(os.environ.get("HADAC_FUZZ_SCALE", "1"))


def fuzz(examples: int):
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=not os.environ.get("HADAC_FUZZ_RANDOM"),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


@pytest.fixture(scope="module")
def workdir():
    """A temp dir holding a copy of specs/data, so a spec written there finds its data."""
    directory = Path(tempfile.mkdtemp(prefix="hadac-fuzz-"))
    shutil.copytree(SPECS / "data", directory / "data")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def _diagnostic_ok(d: Diagnostic) -> None:
    assert isinstance(d, Diagnostic)
    text = d.format()
    assert d.message and d.message in text
    assert d.severity in ("error", "warning")
    json.dumps(d.to_json())


def front_end(text: str, path: Path) -> None:
    """Parse and check `text` as if read from `path`; only HadacError may come out."""
    try:
        problem, reporter = check(parse(text, path))
    except HadacError as error:
        assert error.diagnostics, "a HadacError without diagnostics"
        assert any(d.severity == "error" for d in error.diagnostics)
        for d in error.diagnostics:
            _diagnostic_ok(d)
        str(error)
        return
    for d in reporter.diagnostics:
        _diagnostic_ok(d)
    assert problem.hardware and problem.targets


# ---- (a) random text ----

KEYWORDS = [
    "spec", "hardware", "algorithm", "param", "data", "target", "minimize", "maximize",
    "constraint", "solver", "int", "float", "in", "cbc", "highs", "tree", "forest", "boosted",
    "mlp", "linear", "max_depth", "n_estimators", "hidden", "learning_rate", "cores", "price",
    "location", "time", "cost", "emissions", "memory", "laptop", "server", "anticipate",
    "nScenarios", "nTraces", "let", "with", "confidence", "carbon_intensity", "input",
    "default", "instance", "str", "engine", "precision",
]  # fmt: skip
PUNCTUATION = [
    "{", "}", "(", ")", "[", "]", "=", ",", ":", "~", "..", "+", "-", "*", "/", "<=", ">=",
    "==", "<", ">", "#", "\n", "\t", '"',
]  # fmt: skip
LITERALS = [
    "0", "1", "5", "-1", "2.5", "0.5", "1e3", "1e999", "1" + "0" * 320, "10 min", "3 kg",
    "0.50 EUR/h", "5 degC", "2 dB", "3 kgg", "4 m^2", "1 s^400", '"ITA"', '"time(sec)"',
    '"data/anticipate_laptop.csv"', '"CO2e(kg)"', '"nope.csv"', '"a\x00b"', '""', "s", "kEUR",
    "MB", "kg", "EUR/h", "0" * 4400 + "7", '"lne"', '"tflite"', '"F32"', '" x"', "{}",
]  # fmt: skip
TOKENS = KEYWORDS + PUNCTUATION + LITERALS


@fuzz(4500)
@given(text=st.text(max_size=300))
def test_random_text(workdir, text):
    front_end(text, workdir / "random.hada")


@fuzz(3600)
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup(workdir, tokens):
    front_end(" ".join(tokens), workdir / "soup.hada")


# Specs that follow the grammar, with random names, numbers, units and expressions: these get
# past the parser and exercise the checks and unit arithmetic.
NAMES = st.sampled_from(
    ["time", "cost", "price", "cores", "temp", "laptop", "server", "alg", "n", "x"]
)
UNITS = st.sampled_from(
    ["", " s", " min", " h", " ms", " kg", " mg", " g", " EUR", " kEUR", " EUR/h", " USD", " MB",
     " GB", " kWh", " degC", " degF", " K", " dB", " percent", " pi", " kgg", " m^2", " s^-1",
     " ks^400", " s^400", " dimensionless"]
)  # fmt: skip
SPEC_NUMBERS = st.sampled_from(
    ["0", "1", "2", "3", "0.5", "2.5", "1e-9", "1e300", "1e308", "60", "0" * 4400 + "7"]
)
TARGET_UNITS = st.sampled_from(["s", "kg", "EUR", "kEUR", "MB", "degC", "dB", "s/s", "EUR/h", "x"])
SURROGATES = st.sampled_from(
    ["linear", "linear()", "tree", "tree(max_depth = 3)", "tree(max_depth = 0)",
     "tree(max_depth = 2.5)",
     "forest(n_estimators = 2, max_depth = 2)", "boosted(learning_rate = 2)", "mlp(hidden = [])",
     "mlp(hidden = [4, 4])", "mlp(hidden = 3)", 'tree(max_depth = "3")', "tree(max_depth = [3])",
     "tree(max_depth = 3, max_depth = 3)", "nope(a = 1)"]
)  # fmt: skip
DOMAINS = st.sampled_from(
    ["int in 1..20", "int in 20..1", "int in 0.5..3", "float in 0..1", "int in {1, 2, 4}",
     "int in {1, 2.5}", "int in {2, 2}", "float in {0.5, 1}", "int in -5..5", "int in 1..1000000",
     'str in {"lne", "tflite"}', 'str in {"1", "2", "4"}', 'str in {"a", "a"}', "str in {}",
     "int in {}", 'int in {"1"}', "str in 1..3", "str in {1, 2}", 'str in {"", " b"}']
)  # fmt: skip
# Instance inputs: a column of the data (`instance` is one), a param's name, or no column.
INPUT_NAMES = st.sampled_from(["instance", "nScenarios", "nTraces", "day", "n"])
INPUT_DEFAULTS = st.sampled_from(["", " default 3", " default 2.5", " default -1", " default"])
PATHS = st.sampled_from(
    ["data/anticipate_laptop.csv", "data/contingency_server.csv", "nope.csv", "", "data", ".",
     "a\x00b.csv", "../../../../etc/passwd", "data/anticipate_cloud.csv"]
)  # fmt: skip
# Hardware-independent data: a file of other columns than a pair's, or of the same.
SHARED_PATHS = st.sampled_from(
    ["data/transprecision/saxpy_quality.csv", "data/instances/anticipate_laptop.csv"]
)


def expressions(max_leaves: int = 6):
    leaf = NAMES | st.builds(lambda n, u: n + u, SPEC_NUMBERS, UNITS)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from("+-*/"), inner),
            st.builds(lambda a: f"({a})", inner),
            st.builds(lambda a: f"-{a}", inner),
        ),
        max_leaves=max_leaves,
    )


@st.composite
def generated_spec(draw) -> str:
    out = ["spec generated"]
    for hw in draw(
        st.lists(st.sampled_from(["laptop", "server", "cloud"]), min_size=1, max_size=3)
    ):
        attrs = draw(
            st.lists(st.tuples(NAMES | st.just("location"), SPEC_NUMBERS, UNITS), max_size=3)
        )
        body = " ".join(
            f'{n} = "{draw(st.sampled_from(["ITA", "it", "FRA"]))}"'
            if n == "location"
            else f"{n} = {v}{u}"
            for n, v, u in attrs
        )
        out.append(f"hardware {hw} {{ {body} }}")
    for alg in draw(
        st.lists(st.sampled_from(["anticipate", "contingency"]), min_size=1, max_size=2)
    ):
        param = "nScenarios" if alg == "anticipate" else "nTraces"
        lines = [f"  param {param}: {draw(DOMAINS)}"]
        for _ in range(draw(st.integers(0, 2))):
            lines.append(f"  input {draw(INPUT_NAMES)}: {draw(DOMAINS)}{draw(INPUT_DEFAULTS)}")
        for hw in draw(
            st.lists(st.sampled_from(["laptop", "server", "cloud", "ghost"]), max_size=3)
        ):
            lines.append(f'  data {hw} = "{draw(PATHS)}"')
        for _ in range(draw(st.integers(0, 2))):  # hardware-independent data
            lines.append(f'  data = "{draw(PATHS | SHARED_PATHS)}"')
        out.append(f"algorithm {alg} {{\n" + "\n".join(lines) + "\n}")
    columns = st.sampled_from(
        ["time(sec)", "sol(keuro)", "CO2e(kg)", "instance", "nope", "quality", "cost"]
    )
    for name in draw(st.lists(NAMES, min_size=1, max_size=3)):
        out.append(
            f'target {name} = "{draw(columns)}" in {draw(TARGET_UNITS)} ~ {draw(SURROGATES)}'
        )
    for _ in range(draw(st.integers(0, 2))):
        out.append(f"{draw(st.sampled_from(['minimize', 'maximize']))} {draw(expressions())}")
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["<=", ">=", "<", "==", ">"]))
        out.append(f"constraint {draw(expressions())} {op} {draw(expressions(3))}")
    if draw(st.booleans()):
        out.append(f"solver {draw(st.sampled_from(['cbc', 'highs', 'cplex']))}")
    return "\n".join(out) + "\n"


@fuzz(250)
@given(text=generated_spec())
def test_generated_specs(workdir, text):
    front_end(text, workdir / "generated.hada")


# ---- (b) mutations of the example specs ----

# Tokens of the language, roughly, with the whitespace between them kept as separate pieces.
PIECE = re.compile(r'"[^"\n]*"|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|[0-9.]+(?:[eE][-+]?[0-9]+)?|\s+|.')
NUMBERS = ["0", "-0", "1", "-3", "2.5", "0.0001", "100000000", "1e308", "1e999", "4e-400"]
NUMBERS += ["1" + "0" * 400, "0" * 4400 + "7"]  # overflows a float; over Python's int() limit


def _pieces(text: str) -> list[str]:
    return PIECE.findall(text)


@st.composite
def mutated_spec(draw) -> str:
    text = EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))]
    for _ in range(draw(st.integers(1, 4))):
        how = draw(
            st.sampled_from(
                [
                    "delete token", "duplicate token", "swap tokens", "replace token",
                    "delete line", "duplicate line", "swap lines", "insert chars",
                    "change number", "drop brace", "truncate",
                ]
            )
        )  # fmt: skip
        if how.endswith("line") or how.endswith("lines"):
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if how == "delete line":
                del lines[i]
            elif how == "duplicate line":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
            continue
        if how == "insert chars":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.text(min_size=1, max_size=5)) + text[at:]
            continue
        if how == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
            continue
        pieces = _pieces(text)
        solid = [k for k, p in enumerate(pieces) if not p.isspace()]
        if not solid:
            continue
        if how == "change number":
            numbers = [k for k in solid if pieces[k][0].isdigit()]
            if numbers:
                pieces[draw(st.sampled_from(numbers))] = draw(st.sampled_from(NUMBERS))
        elif how == "drop brace":
            braces = [k for k in solid if pieces[k] in "{}()[]"]
            if braces:
                del pieces[draw(st.sampled_from(braces))]
        else:
            i, j = draw(st.sampled_from(solid)), draw(st.sampled_from(solid))
            if how == "delete token":
                del pieces[i]
            elif how == "duplicate token":
                pieces.insert(j, pieces[i] + " ")
            elif how == "swap tokens":
                pieces[i], pieces[j] = pieces[j], pieces[i]
            else:
                pieces[i] = draw(st.sampled_from(TOKENS + [pieces[j]]))
        text = "".join(pieces)
    return text


@fuzz(1000)
@given(text=mutated_spec())
def test_mutated_examples(workdir, text):
    front_end(text, workdir / "mutated.hada")


# ---- (b2) long expression chains and hostile names ----

BASE = EXAMPLES["tiny.hada"]
OPERANDS = ["emissions", "time", "2", "3 kg", "(time)", "-cost", "cores"]


@st.composite
def long_chain(draw) -> str:
    """An expression of 1 to 1,500 operators: sums, products, unary minus runs, parentheses."""
    size = draw(st.integers(1, 1500))
    shape = draw(st.sampled_from(["binary", "minus", "parens", "mixed"]))
    if shape == "minus":
        return "- " * size + "emissions"
    if shape == "parens":
        return "(" * size + "emissions" + ")" * size
    operand, op = draw(st.sampled_from(OPERANDS)), draw(st.sampled_from(["+", "-", "*", "/"]))
    if shape == "binary":
        return f" {op} ".join([operand] * (size + 1))
    terms = [draw(st.sampled_from(OPERANDS)) for _ in range(draw(st.integers(1, 40)))]
    return " + -".join(terms * (size // len(terms) + 1))


@fuzz(300)
@given(expr=long_chain(), where=st.sampled_from(["minimize", "constraint", "let"]))
def test_long_chains(workdir, expr, where):
    text = BASE.replace("minimize emissions", "")
    line = {"minimize": f"minimize {expr}", "constraint": f"constraint {expr} <= 5 kg"}
    text += line.get(where, f"let chain = {expr}\nminimize chain") + "\n"
    front_end(text, workdir / "chain.hada")


HOSTILE_NAMES = st.sampled_from(
    ["satisfy", "_", "__init__", "__", "VALUE_time", "rank_time", "RANK_x", "PARAM_a_b", "var",
     "var_", "a_b", "a__b", "run", "pair", "config", "objective", "goal", "int", "solve",
     "constraint", "output", "sum", "forall", "class", "def", "None", "hardware", "algorithm",
     "spec", "param", "target", "let", "in", "x"]
)  # fmt: skip


@st.composite
def hostile_spec(draw) -> str:
    """A spec whose every name is one a MiniZinc or Python program, or hadac, uses itself."""
    n = [draw(HOSTILE_NAMES) for _ in range(7)]
    return (
        f"spec {n[0]}\nhardware {n[1]} {{ {n[6]} = 1 EUR/h }}\n"
        f"algorithm {n[2]} {{\n  param {n[3]}: int in 1..5\n"
        f'  data {n[1]} = "data/anticipate_laptop.csv"\n}}\n'
        f'target {n[4]} = "time(sec)" in s ~ tree(max_depth = 2)\n'
        f"let {n[5]} = {n[4]} * {n[6]}\nminimize {n[5]}\n"
    )


@fuzz(500)
@given(text=hostile_spec())
def test_hostile_names(workdir, text):
    front_end(text, workdir / "hostile.hada")


def test_examples_check_clean(workdir):
    """The unmutated examples pass, so the mutations start from valid specs."""
    for name, text in EXAMPLES.items():
        problem, reporter = check(parse(text, workdir / name))
        assert not reporter.errors and problem.pairs


# ---- (c) mutations of a benchmark CSV ----

CSV_SPEC = """spec fuzzcsv
hardware laptop { cores = 4 }
algorithm anticipate {
  param nScenarios: int in 1..20
  data laptop = "fuzz.csv"
}
target time = "time(sec)" in s ~ tree(max_depth = 3)
minimize time
"""
CSV_TEXT = (SPECS / "data" / "anticipate_laptop.csv").read_text().split("\n")[:12]
CELLS = ["", " ", "NaN", "nan", "inf", "-inf", "1e999", "abc", '"', '"1,2"', "1,2", "0x10", "1_000",
         "\x00", "é", "nScenarios", "time(sec)", "-1", "21", "2.5"]  # fmt: skip


@st.composite
def mutated_csv(draw) -> bytes:
    rows = [line.split(",") for line in CSV_TEXT]
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["cell", "drop row", "drop cell", "add cell", "bytes"]))
        r = draw(st.integers(0, len(rows) - 1))
        if how == "drop row" and len(rows) > 1:
            del rows[r]
        elif how in ("cell", "drop cell", "add cell") and rows[r]:
            c = draw(st.integers(0, len(rows[r]) - 1))
            if how == "cell":
                rows[r][c] = draw(st.sampled_from(CELLS) | st.text(max_size=4))
            elif how == "drop cell":
                del rows[r][c]
            else:
                rows[r].insert(c, draw(st.sampled_from(CELLS)))
    data = "\n".join(",".join(row) for row in rows).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


@fuzz(400)
@given(data=mutated_csv())
def test_mutated_data(workdir, data):
    (workdir / "fuzz.csv").write_bytes(data)
    front_end(CSV_SPEC, workdir / "csv.hada")


# ---- (d) mutations of a benchmark CSV with str params ----

LABEL_SPEC = """spec fuzzlabels
hardware pi4 { cores = 4 }
algorithm classify {
  param model: str in {"mobilenet", "resnet18", "efficientnet"}
  param engine: str in {"lne", "onnxruntime", "tflite"}
  param precision: str in {"F32", "F16", "INT8"}
  param threads: int in {1, 2, 4}
  data pi4 = "labels.csv"
}
target time = "time(ms)" in ms ~ tree(max_depth = 3)
minimize time
"""
LABEL_TEXT = (SPECS / "data" / "edge-ai" / "pi4.csv").read_text().split("\n")[:14]
LABEL_CELLS = ["lne", "LNE", "tflite ", " F16", "INT8", "F64", "efficientnet", "", "1", "é"]


@fuzz(300)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(LABEL_TEXT) - 1),
            st.integers(0, 3),
            st.sampled_from(LABEL_CELLS) | st.text(max_size=4),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_label_data(workdir, edits):
    rows = [line.split(",") for line in LABEL_TEXT]
    for row, column, cell in edits:
        rows[row][column] = cell
    text = "\n".join(",".join(row) for row in rows)
    (workdir / "labels.csv").write_text(text, encoding="utf-8", errors="surrogatepass")
    front_end(LABEL_SPEC, workdir / "labels.hada")
