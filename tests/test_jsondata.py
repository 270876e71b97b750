"""MiniZinc JSON data: every float reads back as the same double, on every driver here."""

from __future__ import annotations

import subprocess

import pytest

from hadac import jsondata, runtime
from hadac.numbers import positional

# Small, huge, subnormal, inexact in decimal, negative zero, beyond 2**53: each once.
FLOATS = [
    5e-05,
    1e-300,
    1e300,
    0.1 + 0.2,
    -0.0,
    5e-324,
    2.0**53 + 2,
    3.141592653589793,
    1.23456789e-15,
    1.7976931348623157e308,
    2.2250738585072014e-308,
]


def test_positional_has_no_exponent_and_reads_back_in_python():
    for value in FLOATS:
        text = positional(value)
        assert "e" not in text.lower() and "." in text, text
        assert float(text) == value and str(float(text)) == repr(value)
    with pytest.raises(ValueError, match="cannot be written"):
        positional(float("nan"))


def test_dumps_writes_enums_bools_ints_and_refuses_empty_data():
    text = jsondata.dumps({"h": [jsondata.Enum("hw_a")], "on": True, "n": 3, "x": [0.5]})
    assert text == '{\n  "h": [{"e": "hw_a"}],\n  "on": true,\n  "n": 3,\n  "x": [0.5]\n}\n'
    with pytest.raises(ValueError, match="no empty JSON data"):
        jsondata.dumps({})


@pytest.mark.parametrize("where", ["native", "bundled"])
def test_minizinc_reads_every_float_exactly(where, tmp_path):
    """The model compares each value read from the JSON data with the same double written as
    Python's `repr` in the model text; a difference fails an assertion in MiniZinc."""
    drivers = {s.where: s.driver for s in runtime.solvers() if s.available and s.where}
    if where not in drivers:
        pytest.skip(f"no {where} MiniZinc driver here")
    literals = ", ".join(repr(x) for x in FLOATS)
    (tmp_path / "model.mzn").write_text(
        f"int: n; array[1..n] of float: X; array[1..n] of float: E = [{literals}];\n"
        'constraint forall(i in 1..n)(assert(X[i] = E[i], "entry \\(i) differs"));\n'
        "solve satisfy;\n"
    )
    (tmp_path / "data.json").write_text(jsondata.dumps({"n": len(FLOATS), "X": FLOATS}))
    run = [str(drivers[where]), "--solver", "gecode", "model.mzn", "data.json"]
    done = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "----------" in done.stdout, done.stdout + done.stderr
    # The same check fails when one value is off by one unit in the last place.
    changed = [*FLOATS]
    changed[3] = 0.3
    (tmp_path / "data.json").write_text(jsondata.dumps({"n": len(changed), "X": changed}))
    done = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "entry 4 differs" in done.stdout + done.stderr, done.stdout + done.stderr
