"""A plain, non-editable install carries the grammar and the templates."""

from __future__ import annotations

import subprocess

from conftest import REPO, install_wheel


def test_wheel_installs_and_compiles_outside_the_checkout(tmp_path):
    python, names = install_wheel(tmp_path)
    assert "hadac/grammar/hada.lark" in names
    assert "hadac/templates/enumerated/model.mzn.j2" in names

    work = tmp_path / "elsewhere"
    work.mkdir()
    spec = REPO / "specs" / "tiny.hada"
    result = subprocess.run(
        [python, "-m", "hadac", "compile", str(spec), "-o", str(work / "b")],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    located = subprocess.run(
        [python, "-c", "import hadac.resources as r; print(r.resource_dir('grammar'))"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert located.startswith(str(tmp_path / "venv")), located
    golden = REPO / "tests" / "golden" / "tiny" / "model.mzn"
    assert (work / "b" / "model.mzn").read_text() == golden.read_text()
