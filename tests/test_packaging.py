"""A plain, non-editable install carries the grammar and the templates."""

from __future__ import annotations

import site
import subprocess
import sys
import zipfile

from conftest import REPO


def test_wheel_installs_and_compiles_outside_the_checkout(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("hadac-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "hadac/grammar/hada.lark" in names
    assert "hadac/templates/enumerated/model.mzn.j2" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], check=True)
    # The dependencies come from the test environment; hadac itself only from the wheel.
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if "site-packages" in p]
    (tmp_path / "venv" / purelib.split(str(venv) + "/")[-1] / "deps.pth").write_text(
        "\n".join(deps) + "\n"
    )

    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [
            python,
            "-m",
            "hadac",
            "compile",
            str(REPO / "specs" / "tiny.hada"),
            "-o",
            str(work / "b"),
        ],
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
    assert located.startswith(str(venv)), located
    assert (work / "b" / "model.mzn").read_text() == (
        REPO / "tests" / "golden" / "tiny" / "model.mzn"
    ).read_text()
