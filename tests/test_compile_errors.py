"""Errors the compiler finds after `hadac check` has passed: each gives the message a user
should see, at the spec line it is about, and exit code 1.

These are the problems only fitting or encoding reveals: an expression the MIP model cannot
take, a table over a continuous param, a quantity that is not finite for some
configuration, a confidence on an expression that is no sum of targets. Every case writes a
small spec and its CSVs to a temp dir, checks that `hadac check` accepts it (so the error is
the compiler's), then runs `hadac compile` and compares the whole of stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import edited

from hadac.cli import main

# The spec every case edits. Line numbers, for reading the expected messages:
#   1 spec s
#   2 hardware hw { cores = 4 }
#   3 algorithm alg {
#   4   param n: int in 1..3
#   5   param x: float in {0, 0.5, 1}
#   6   data hw = "a.csv"
#   7 }
#   8 target time = "t" in s ~ tree(max_depth = 3)
#   9 target cost = "c" in EUR ~ tree(max_depth = 3)
#  10 minimize time
BASE = """spec s
hardware hw { cores = 4 }
algorithm alg {
  param n: int in 1..3
  param x: float in {0, 0.5, 1}
  data hw = "a.csv"
}
target time = "t" in s ~ tree(max_depth = 3)
target cost = "c" in EUR ~ tree(max_depth = 3)
minimize time
"""
CONTINUOUS = ("param x: float in {0, 0.5, 1}", "param x: float in 0..1")  # makes it a MIP model


def _rows() -> str:
    """45 rows, 5 per (n, x): 9 held out per pair, a fit good enough to warn of nothing."""
    lines = ["n,x,t,c"]
    for k in range(45):
        n, x = 1 + k % 3, (0.0, 0.5, 1.0)[(k // 3) % 3]
        lines.append(f"{n},{x},{1 + n + 2 * x + 0.1 * (k % 4):.2f},{5 + n * x + 0.1 * (k % 5):.2f}")
    return "\n".join(lines) + "\n"


A_CSV = _rows()


def edit(*changes: tuple[str, str], append: str = "") -> str:
    """BASE with each `old` replaced by `new` (each must occur once), then `append` added."""
    return edited(BASE, *changes, append=append)


@dataclass
class Case:
    id: str
    spec: str
    expect: str  # the exact stderr of `hadac compile`
    files: dict[str, str] = field(default_factory=dict)
    checked: bool = True  # whether `hadac check` accepts the spec


CASES = [
    # ---- the MIP model: linear in the targets, on each hardware ----
    Case(
        "mip-product-of-targets",
        edit(CONTINUOUS, ("minimize time", "minimize time * cost")),
        "hadac: error: spec.hada:10: 'minimize time * cost' contains a product of two targets,"
        " which a MIP solver cannot take; give every param a finite domain so hadac can"
        " enumerate, or use table encodings\n",
    ),
    Case(
        "mip-division-by-target",
        edit(CONTINUOUS, append="constraint time / cost <= 3 s/EUR\n"),
        "hadac: error: spec.hada:11: 'constraint time / cost <= 3 s/EUR' contains a division by"
        " a target, which a MIP solver cannot take; give every param a finite domain so hadac"
        " can enumerate, or use table encodings\n",
    ),
    # ---- tables ----
    Case(
        "table-over-a-continuous-param",
        edit(
            CONTINUOUS,
            ('"t" in s ~ tree(max_depth = 3)', '"t" in s ~ tree(max_depth = 3, encoding = table)'),
        ),
        "hadac: error: spec.hada:8: 'time' asks for a table but 'alg' has a continuous param\n",
    ),
    Case(
        "objective-not-finite",
        edit(("cores = 4", "cores = 4  speed = 0"), ("minimize time", "minimize time / speed")),
        "hadac: error: spec.hada:10: 'minimize time / speed' is not a finite number for every"
        " configuration (a division by zero?)\n",
    ),
    Case(
        "constraint-not-finite-through-a-let",
        edit(
            ("cores = 4", "cores = 4  speed = 0"),
            append="let rate = cost / speed\nconstraint rate <= 3 EUR\n",
        ),
        "hadac: error: spec.hada:12: 'constraint rate <= 3 EUR' is not a finite number for"
        " every configuration (a division by zero?)\n",
    ),
    # ---- confidences ----
    Case(
        "confidence-on-a-product-of-targets",
        edit(append="constraint time * cost <= 10 s*EUR with confidence 0.8\n"),
        "hadac: error: spec.hada:11: 'constraint time * cost <= 10 s*EUR with confidence 0.8':"
        " a confidence needs an expression that is a sum of targets times constants on each"
        " hardware, and this one contains a product of two targets\n",
    ),
    Case(
        # Caught before fitting, from the row counts alone, so `hadac check` reports it too.
        "confidence-with-too-few-holdout-rows",
        edit(append="constraint time <= 4 s with confidence 0.95\n"),
        """\
spec.hada:11:40: error: confidence 0.95 needs at least 19 holdout rows per pair (0.2 of the\
 data); alg on hw has 9 of 45 rows
   11 | constraint time <= 4 s with confidence 0.95
      |                                        ^^^^
""",
        checked=False,
    ),
    Case(
        "confidence-split-between-two-targets",
        edit(append="constraint time / 1 s + cost / 1 EUR <= 12 with confidence 0.9\n"),
        """\
spec.hada:11:60: error: confidence 0.9 needs at least 19 holdout rows per pair (0.2 of the\
 data); alg on hw has 9 of 45 rows
   11 | constraint time / 1 s + cost / 1 EUR <= 12 with confidence 0.9
      |                                                            ^^^
""",
        checked=False,
    ),
]


def write(folder: Path, spec: str, files: dict[str, str]) -> Path:
    (folder / "a.csv").write_text(A_CSV)
    for name, text in files.items():
        (folder / name).write_text(text)
    path = folder / "spec.hada"
    path.write_text(spec, encoding="utf-8")
    return path


def run(folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """`hadac ARGS...` from inside `folder`, so the spec path shows relative."""
    monkeypatch.chdir(folder)
    return CliRunner().invoke(main, list(args))


def test_every_case_has_its_own_id():
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_compile_error(tmp_path, monkeypatch, case: Case):
    write(tmp_path, case.spec, case.files)
    checked = run(tmp_path, monkeypatch, "check", "spec.hada")
    assert checked.exit_code == (0 if case.checked else 1), checked.output
    result = run(tmp_path, monkeypatch, "compile", "spec.hada", "-o", "build")
    assert result.stderr == case.expect
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output and "internal error" not in result.stderr
    assert not (tmp_path / "build").exists()  # a failed compile leaves nothing behind


def test_solve_of_a_spec_reports_the_compile_error(tmp_path, monkeypatch):
    """`hadac solve SPEC` compiles first, and stops there with the same message."""
    case = next(c for c in CASES if c.id == "objective-not-finite")
    write(tmp_path, case.spec, case.files)
    result = run(tmp_path, monkeypatch, "solve", "spec.hada", "-o", "build")
    assert result.exit_code == 1, result.output
    assert result.stderr.endswith(case.expect)
    assert "Traceback" not in result.output


def test_compile_json_carries_the_message(tmp_path, monkeypatch):
    case = next(c for c in CASES if c.id == "table-over-a-continuous-param")
    write(tmp_path, case.spec, case.files)
    result = run(tmp_path, monkeypatch, "compile", "spec.hada", "-o", "build", "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["format_version"] == 1 and payload["ok"] is False
    assert payload["diagnostics"] == [
        {
            "severity": "error",
            "message": "spec.hada:8: 'time' asks for a table but 'alg' has a continuous param",
        }
    ]


def test_real_process(tmp_path):
    """The same through `python -m hadac`: exit code, stderr, and no traceback."""
    case = next(c for c in CASES if c.id == "mip-product-of-targets")
    write(tmp_path, case.spec, case.files)
    result = subprocess.run(
        [sys.executable, "-m", "hadac", "compile", "spec.hada", "-o", "build"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == case.expect
    assert "Traceback" not in result.stderr + result.stdout


def test_holdout_guard_behind_the_check(tmp_path, monkeypatch):
    """The margin computation refuses an infinite quantile on its own, should the check
    that counts rows before fitting (`checks._enough_to_calibrate`) ever miss a case."""
    from hadac import checks

    monkeypatch.setattr(checks, "_enough_to_calibrate", lambda *args: None)
    write(tmp_path, edit(append="constraint time <= 4 s with confidence 0.95\n"), {})
    result = run(tmp_path, monkeypatch, "compile", "spec.hada", "-o", "build")
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "hadac: error: spec.hada:11: 'constraint time <= 4 s with confidence 0.95':"
        " confidence 0.95 needs at least 19 holdout rows of 'time' per pair (a fifth of the"
        " data); alg on hw has 9\n"
    )


@pytest.mark.parametrize("what", ["file", "directory"])
def test_output_that_is_not_a_build_is_left_alone(tmp_path, monkeypatch, what):
    write(tmp_path, BASE, {})
    out = tmp_path / "build"
    if what == "file":
        out.write_text("mine\n")
        expect = "build is a file, not a hadac build: refusing to replace it"
    else:
        out.mkdir()
        (out / "notes.txt").write_text("mine\n")
        expect = (
            "build is a directory that holds other files than a hadac build (it has no hadac"
            " manifest.json): refusing to replace it"
        )
    result = run(tmp_path, monkeypatch, "compile", "spec.hada", "-o", "build")
    assert result.exit_code == 1, result.output
    assert result.stderr == f"hadac: error: {expect}; choose another output directory (-o)\n"
    assert (out.read_text() if what == "file" else (out / "notes.txt").read_text()) == "mine\n"
