"""A plain, non-editable install carries the grammar, the templates, the bench runner and
the what-if page."""

from __future__ import annotations

import subprocess

from conftest import REPO, install_wheel


def test_wheel_installs_and_compiles_outside_the_checkout(tmp_path):
    python, names = install_wheel(tmp_path)
    assert "hadac/grammar/hada.lark" in names
    assert "hadac/templates/enumerated/model.mzn.j2" in names
    assert "hadac/benchrunner.py" in names and "hadac/templates/bench/run.py" in names
    page = {"index.html", "app.js", "app.css", "icon.svg"}  # the what-if page of `hadac serve`
    assert {f"hadac/web/{name}" for name in page} <= set(names)

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

    energy = REPO / "specs" / "energy-local.hada"
    rendered = subprocess.run(
        [python, "-m", "hadac", "bench", str(energy), "--hardware", "one_core", "--render-only"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert rendered.returncode == 0, rendered.stderr
    folder = work / "build" / "energy_local.bench"
    assert (folder / "hadac_benchrunner.py").read_text() == (
        REPO / "hadac" / "benchrunner.py"
    ).read_text()
    assert (folder / "run_anticipate_on_one_core.py").read_text() == (
        REPO / "templates" / "bench" / "run.py"
    ).read_text()
    assert (folder / "run_anticipate_on_one_core.json").is_file()
