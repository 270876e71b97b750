"""Each spec in specs/ compiles to its checked-in model and data.

Byte for byte, except that numbers are compared to 10 significant digits: the fitted
weights of a neural network differ in their last bits between machines whose BLAS sums in
another order (measured: the MLP of specs/structure.hada), which is not a change of hadac.
On one machine the same spec and data give the same bytes (tests/test_compile.py).
`pytest --update-golden` rewrites tests/golden/ from the current output.
"""

from __future__ import annotations

import difflib
import re

import pytest
from conftest import REPO, SPECS

GOLDEN = REPO / "tests" / "golden"
FILES = ("model.mzn", "data.json", "cp.mzn")
OPTIONAL = ("cp.mzn",)  # only MIP builds that CP solvers can take have it
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _rounded(text: str) -> str:
    return NUMBER.sub(lambda m: f"{float(m[0]):.10g}", text)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
@pytest.mark.parametrize("name", FILES)
def test_compiled_output_matches_golden(spec, name, builds, update_golden):
    produced_path = builds[spec.stem].directory / name
    golden = GOLDEN / spec.stem / name
    if name in OPTIONAL and not produced_path.exists():
        assert not golden.exists(), f"{spec.name} no longer compiles a {name}"
        return
    produced = produced_path.read_text()
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced)
        return
    assert golden.exists(), f"no golden file {golden}; run pytest --update-golden"
    expected = golden.read_text()
    if _rounded(produced) != _rounded(expected):
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            produced.splitlines(keepends=True),
            fromfile=str(golden.relative_to(REPO)),
            tofile=f"compiled {spec.name}",
            n=2,
        )
        pytest.fail("compiled output differs from the golden file:\n" + "".join(diff), False)


def test_every_spec_has_golden_files():
    for spec in SPECS:
        for name in FILES:
            if name in OPTIONAL:
                continue
            assert (GOLDEN / spec.stem / name).exists(), f"{spec.name}: missing golden {name}"
