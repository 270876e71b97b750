"""Generated MiniZinc identifiers: injective, valid, never reserved; text escaped; deep
expressions refused at their place."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_hostile import MINIZINC_GLOBALS, MINIZINC_KEYWORDS

from hadac.checks import check
from hadac.encode import names
from hadac.errors import HadacError
from hadac.parser import parse

USER_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True) | st.sampled_from(
    ["_", "__", "__init__", "a_", "_a", "a__b", "a_b", "var", "var_", "satisfy", "VALUE_x"]
)
FIXED = set(MINIZINC_KEYWORDS + MINIZINC_GLOBALS) | {
    "config",
    "hardware",
    "algorithm",
    "run",
    "pair",
    "goal",
    "objective_scaled",
    "CONFIG",
    "HARDWARE",
    "ALGORITHM",
    "PAIR",
    "N_CONFIGS",
    "CONFIG_HARDWARE",
    "CONFIG_ALGORITHM",
}
ONE_PART = [
    names.hardware,
    names.algorithm,
    names.point_var,
    names.target_var,
    names.split_var,
    names.split_param,
    names.split_left,
    names.split_right,
]
TWO_PARTS = [names.param_var, names.param_array, names.point_array]
QUANTITY = [names.value_array, names.rank_array, names.rank_var]


def _all(parts: list[tuple[str, ...]]) -> list[tuple[tuple, str]]:
    """Every identifier the namespaces make from these names, with what it was made from."""
    out = []
    for p in parts:
        for i, f in enumerate(ONE_PART):
            out.append((("one", i, p[0]), f(p[0])))
        for i, f in enumerate(TWO_PARTS):
            out.append((("two", i, p), f(*p)))
        for i, f in enumerate(QUANTITY):
            out.append((("q", i, p[0]), f(p[0])))
            out.append((("derived", i, p[0]), f(names.derived(p[0]))))
    return out


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(USER_NAME, USER_NAME), min_size=1, max_size=6))
def test_identifiers_are_injective_valid_and_never_reserved(parts):
    made: dict[str, tuple] = {}
    for origin, ident in _all(parts):
        assert names.IDENTIFIER.fullmatch(ident), ident
        assert ident not in FIXED
        assert made.setdefault(ident, origin) == origin, (ident, origin, made[ident])


@pytest.mark.parametrize(
    ("a", "b"),
    [(("a", "b_c"), ("a_b", "c")), (("a_", "b"), ("a", "_b")), (("var",), ("var_",))],
)
def test_names_that_once_mangled_alike_differ(a, b):
    if len(a) == 2:
        assert names.param_array(*a) != names.param_array(*b)
    else:
        assert names.hardware(*a) != names.hardware(*b)


def test_plain_names_stay_readable():
    assert names.param_array("anticipate", "nScenarios") == "PARAM_anticipate_nScenarios"
    assert names.rank_var("time") == "rank_time"


@pytest.mark.parametrize("hostile", ["a\nconstraint false;", 'x"y', "*/ solve", "50%\r\x00"])
def test_text_in_a_model_stays_on_one_comment_line(hostile):
    shown = names.text(hostile)
    assert "\n" not in shown and "\r" not in shown and "\x00" not in shown
    assert "*/" not in shown and "/*" not in shown


def _error(text: str, tmp_path: Path) -> str:
    spec = tmp_path / "deep.hada"
    spec.write_text(text)
    with pytest.raises(HadacError) as info:
        check(parse(text, spec))
    return "\n".join(d.format() for d in info.value.diagnostics)


SPEC = Path(__file__).resolve().parent.parent / "specs" / "tiny.hada"


@pytest.mark.parametrize(
    "line",
    [
        "minimize " + " + ".join(["emissions"] * 700),
        "minimize " + "- " * 700 + "emissions",
        "constraint " + " * ".join(["time"] * 700) + " <= 3 s",
    ],
)
def test_a_deep_expression_is_a_located_error(line, tmp_path):
    text = SPEC.read_text().replace("minimize emissions", "# (goal below)") + line + "\n"
    number = text.split("\n").index(line) + 1
    message = _error(text, tmp_path)
    assert f"deep.hada:{number}:" in message and "expression too deep" in message


def test_lets_that_inline_to_a_huge_expression_are_a_located_error(tmp_path):
    lets = "let l0 = emissions\n" + "".join(f"let l{i + 1} = l{i} + l{i}\n" for i in range(30))
    message = _error(SPEC.read_text() + lets, tmp_path)
    assert "too deep or too large once its lets are inlined" in message
