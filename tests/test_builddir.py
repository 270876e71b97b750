"""Nothing the user has is replaced by a build, and no answer comes from a damaged or stale one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from hadac.builddir import FORMAT_VERSION, MANIFEST_FILE
from hadac.cli import main

REPO = Path(__file__).resolve().parent.parent


def run(*args: object, cwd: Path | None = None):
    if cwd is None:
        return CliRunner().invoke(main, [str(a) for a in args])
    here = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, [str(a) for a in args])
    finally:
        os.chdir(here)


def checksum(folder: Path) -> str:
    """A digest of every path, mode and byte under `folder`."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(oct(path.lstat().st_mode).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the tiny example: spec and data a test may edit."""
    shutil.copy(REPO / "specs" / "tiny.hada", tmp_path)
    shutil.copytree(REPO / "specs" / "data", tmp_path / "data")
    return tmp_path


def test_output_onto_a_folder_of_other_files_is_refused_untouched(project: Path):
    keep = project / "thesis"
    keep.mkdir()
    (keep / "chapter1.tex").write_text("years of work\n")
    before = checksum(project)
    for command in ("compile", "solve"):
        result = run(command, project / "tiny.hada", "-o", keep)
        assert result.exit_code == 1, result.output
        assert "holds other files than a hadac build" in result.output
        assert "refusing to replace it" in result.output
        assert str(keep) in result.output
    assert checksum(project) == before


def test_output_onto_the_working_directory_is_refused_untouched(project: Path):
    before = checksum(project)
    result = run("compile", "tiny.hada", "-o", ".", cwd=project)
    assert result.exit_code == 1, result.output
    assert ". is a directory that holds other files" in result.output
    assert checksum(project) == before


def test_output_onto_a_file_is_refused_untouched(project: Path):
    target = project / "notes.txt"
    target.write_text("keep me\n")
    before = checksum(project)
    result = run("compile", project / "tiny.hada", "-o", target)
    assert result.exit_code == 1, result.output
    assert "is a file, not a hadac build" in result.output
    assert checksum(project) == before


def test_pareto_never_replaces_a_folder_of_the_users(project: Path):
    out = project / "front"
    (out / "build").mkdir(parents=True)
    (out / "build" / "mine.csv").write_text("1,2\n")
    before = checksum(project)
    result = run("pareto", project / "tiny.hada", "--objectives", "emissions,time", "-o", out)
    assert result.exit_code == 1, result.output
    assert "refusing to replace it" in result.output
    assert checksum(project) == before


def test_a_build_and_an_empty_folder_may_be_replaced(project: Path):
    out = project / "empty"
    out.mkdir()
    assert run("compile", project / "tiny.hada", "-o", out).exit_code == 0
    assert (out / MANIFEST_FILE).is_file()
    assert run("compile", project / "tiny.hada", "-o", out).exit_code == 0
    mode = stat.S_IMODE(out.stat().st_mode)
    assert mode & 0o055 == 0o055 & ~_umask(), oct(mode)  # readable by others, as mkdir makes it


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_solving_a_spec_reuses_its_up_to_date_build(project: Path):
    build = project / "build" / "tiny"
    first = run("solve", project / "tiny.hada", "--solver", "gecode", "--json", cwd=project)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["timings"]["compile"] is not None
    stamp = (build / "model.mzn").stat().st_mtime_ns
    mine = build.parent / "tiny.bench"
    mine.mkdir()
    again = run("solve", "tiny.hada", "--solver", "gecode", "--json", cwd=project)
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["timings"]["compile"] is None
    assert (build / "model.mzn").stat().st_mtime_ns == stamp
    assert mine.is_dir()


def test_solving_a_spec_recompiles_when_its_data_changed(project: Path):
    assert run("solve", "tiny.hada", "--solver", "gecode", cwd=project).exit_code == 0
    data = project / "data" / "anticipate_laptop.csv"
    data.write_text(data.read_text() + data.read_text().splitlines()[-1] + "\n")
    result = run("solve", "tiny.hada", "--solver", "gecode", "--json", cwd=project)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["timings"]["compile"] is not None


def _compiled(project: Path) -> Path:
    build = project / "out"
    assert run("compile", project / "tiny.hada", "-o", build).exit_code == 0
    return build


def test_a_stale_build_is_refused_saying_what_changed(project: Path):
    build = _compiled(project)
    spec = project / "tiny.hada"
    spec.write_text(spec.read_text().replace("<= 30 s", "<= 20 s"))
    result = run("solve", build, "--solver", "gecode")
    assert result.exit_code == 1, result.output
    assert (
        f"the build {build} is out of date: {spec} changed since it was compiled" in result.output
    )
    assert "OPTIMAL" not in result.output

    build = _compiled(project)
    data = project / "data" / "anticipate_server.csv"
    data.write_text(data.read_text().replace("\n1,", "\n2,", 1))
    result = run("solve", build, "--solver", "gecode")
    assert result.exit_code == 1, result.output
    assert f"{data} changed since it was compiled" in result.output


def test_a_build_of_another_format_is_refused_naming_both(project: Path):
    build = _compiled(project)
    manifest = json.loads((build / MANIFEST_FILE).read_text())
    manifest["format_version"] = 1
    (build / MANIFEST_FILE).write_text(json.dumps(manifest))
    result = run("solve", build)
    assert result.exit_code == 1, result.output
    assert f"written in build format 1; this hadac reads format {FORMAT_VERSION}" in result.output


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


DAMAGES = {
    "an added constraint": (
        "model.mzn",
        lambda p: p.write_text(p.read_text() + "constraint config > 1;\n"),
    ),
    "a syntax error": ("model.mzn", lambda p: p.write_text(p.read_text() + "constraint (;\n")),
    "a deleted model": ("model.mzn", Path.unlink),
    "a deleted data file": ("data.json", Path.unlink),
    "an edited data file": ("data.json", lambda p: p.write_text(p.read_text() + " ")),
    "a truncated estimator": ("models/anticipate-laptop-time.joblib", _truncate),
    "a deleted estimator": ("models/anticipate-laptop-time.joblib", Path.unlink),
    "an edited predictor": ("models/anticipate-laptop-time.npz", _truncate),
    "no models folder": ("models", shutil.rmtree),
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
def test_a_damaged_build_names_the_file_and_says_to_compile(project: Path, damage: str):
    build = _compiled(project)
    name, harm = DAMAGES[damage]
    harm(build / name)
    result = run("solve", build, "--solver", "gecode")
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    assert f"the build {build} cannot be trusted" in result.output
    shown = name if name != "models" else "models/anticipate-laptop-time.joblib"
    assert f"{build / shown} is " in result.output
    assert "compile the spec again" in result.output
    # the spec solves again: the damaged build is a hadac build, so it is replaced
    assert run("solve", project / "tiny.hada", "-o", build, "--solver", "gecode").exit_code == 0


def test_surrogates_whose_names_join_alike_keep_their_own_estimators(tmp_path: Path):
    """`a` on `b__c` and `a__b` on `c` once shared one joblib file, the last fit winning."""
    rows = "x,t\n" + "".join(f"{x},{x * k}\n" for k in (1, 2) for x in range(1, 11))
    (tmp_path / "one.csv").write_text(rows)
    (tmp_path / "two.csv").write_text("x,t\n" + "".join(f"{x},{100 - x}\n" for x in range(1, 21)))
    (tmp_path / "s.hada").write_text(
        "spec s\nhardware b__c { cores = 1 }\nhardware c { cores = 1 }\n"
        'algorithm a { param x: int in 1..10\n data b__c = "one.csv" }\n'
        'algorithm a__b { param x: int in 1..20\n data c = "two.csv" }\n'
        'target t = "t" in s ~ tree(max_depth = 3)\nminimize t\n'
    )
    result = run("compile", tmp_path / "s.hada", "-o", tmp_path / "b", "--json")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "b" / MANIFEST_FILE).read_text())
    files = [s["model"] for s in manifest["surrogates"]]
    assert len(set(files)) == len(files) == 2, files
