"""Shared fixtures: example specs, the reference data folder, compiled builds, and the
`requires_solver` marker that skips a test, saying why, when a solver it needs is missing."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from hadac.runtime import SolverInfo

REPO = Path(__file__).resolve().parent.parent
SPECS = sorted((REPO / "specs").glob("*.hada"))
SHARED_DATA = Path(
    os.environ.get(
        "HADAC_SHARED_DATA", REPO.parent / "shared" / "data" / "sustainable-hw-dimensioning"
    )
)


def edited(base: str, *changes: tuple[str, str], append: str = "") -> str:
    """`base` with each `old` replaced by `new` (each must occur once), then `append` added."""
    text = base
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text + append


def install_wheel(folder: Path) -> tuple[Path, list[str]]:
    """Build hadac's wheel and install it alone into a fresh venv under `folder`.

    hadac comes only from the wheel; its dependencies come from the test environment, through
    a .pth file. Returns the venv's python and the wheel's file names.
    """
    wheels = folder / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
    )
    (wheel,) = wheels.glob("hadac-*.whl")
    python, _ = venv_with_test_packages(folder / "venv")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True)
    return python, zipfile.ZipFile(wheel).namelist()


def venv_with_test_packages(folder: Path) -> tuple[Path, Path]:
    """A fresh venv at `folder` that sees the test environment's packages through a .pth
    file, but not its hadac; returns its python and its site-packages folder."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if "site-packages" in p]
    Path(purelib, "deps.pth").write_text("\n".join(deps) + "\n")
    return python, Path(purelib)


def solver_missing(name: str, where: str | None = None) -> str | None:
    """Why solver `name` cannot run here (or not on the `where` driver, "native" or
    "bundled"), as a skip reason; None when it can."""
    from hadac import runtime
    from hadac import solvers as solver_table

    solver_table.get(name)  # a misspelt name in a test is an error, not a skip
    info = next(s for s in runtime.solvers() if s.name == name)
    on = f" on the {where} driver" if where else ""
    if not info.available:
        return f"needs solver {name}{on}, which is unavailable here: {info.reason}"
    if where is not None and info.where != where:
        return f"needs solver {name}{on}; here it runs {info.where} ({info.driver})"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_solver(*names, where=None): skip unless every named solver runs here (on the"
        " `where` driver, native or bundled, when given); with no names, the solver is the"
        " test's `solver` parameter",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked `requires_solver` whose solver is missing, with the runtime's
    reason, so that a machine without one solver still runs every other test."""
    for mark in item.iter_markers("requires_solver"):
        names = mark.args
        if not names:
            callspec = getattr(item, "callspec", None)
            if callspec is None or "solver" not in callspec.params:
                raise pytest.UsageError(
                    f"{item.nodeid}: requires_solver without names needs a `solver` parameter"
                )
            names = (callspec.params["solver"],)
        for name in names:
            reason = solver_missing(name, mark.kwargs.get("where"))
            if reason is not None:
                pytest.skip(reason)


@pytest.fixture
def require_solver() -> Callable[..., SolverInfo]:
    """`require_solver(name, where=None)`: the solver's info, or a skip saying why it is
    missing. For tests that choose the driver themselves (HADAC_MINIZINC) before asking,
    which a marker, checked before the test's fixtures run, cannot see."""

    from hadac import runtime

    def require(name: str, where: str | None = None) -> SolverInfo:
        reason = solver_missing(name, where)
        if reason is not None:
            pytest.skip(reason)
        return next(s for s in runtime.solvers() if s.name == name)

    return require


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite the golden files in tests/golden/ from the current compiler output.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def contract_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The DESIGN.md example, next to a `data/` link to the shared reference data."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not present at {SHARED_DATA}")
    folder = tmp_path_factory.mktemp("contract")
    (folder / "data").symlink_to(SHARED_DATA)
    spec = folder / "energy.hada"
    spec.write_text((REPO / "tests" / "data" / "contract.hada").read_text())
    return spec


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every spec in specs/ compiled once, by file stem."""
    from hadac.compiler import compile_spec

    out = tmp_path_factory.mktemp("builds")
    return {spec.stem: compile_spec(spec, out / spec.stem) for spec in SPECS}


def descendants(pid: int) -> list[int]:
    """Every process started, directly or not, by `pid`."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found
