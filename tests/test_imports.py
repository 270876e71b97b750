"""hadac's modules import each other without cycles, and the commands import only what they use.

A cycle works only as long as no module in it uses a name of another at import time, and it
breaks on the day one does; one under `if TYPE_CHECKING:` still ties the two modules'
types together. The graph here has an edge for every import a module makes when it is
loaded (its top level, class bodies, `if` and `try` blocks, `TYPE_CHECKING` included, not
function bodies), to the module imported and to each package that importing it loads, but
not to the module's own packages, which are always loaded before it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "hadac"


def _modules() -> dict[str, Path]:
    """Every hadac module by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _loaded_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is loaded."""
    found, pending = [], list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _targets(name: str, path: Path, node: ast.Import | ast.ImportFrom, modules: dict) -> set:
    """The hadac modules an import statement in module `name` names."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join(package + ([base] if base else []))
    # `from package import name` loads the submodule when `name` is one.
    submodules = {f"{base}.{alias.name}" for alias in node.names}
    return {base} | (submodules & set(modules))


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
        edges = set()
        for node in _loaded_imports(ast.parse(path.read_text(), str(path))):
            for target in _targets(name, path, node, modules):
                parts = target.split(".")
                loaded = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
                edges |= {m for m in loaded - own if m in modules}
        graph[name] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the modules along it, or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module) :] + [module]
        if module in done:
            return None
        path.append(module)
        for following in sorted(graph[module]):
            found = visit(following)
            if found:
                return found
        path.pop()
        done.add(module)
        return None

    for start in sorted(graph):
        found = visit(start)
        if found:
            return found
    return None


def test_the_graph_sees_hadacs_imports():
    graph = _graph()
    assert "hadac.problem" in graph["hadac.checks"]
    assert "hadac.query" in graph["hadac.pareto"]
    assert "hadac.encode" in graph["hadac.builddir"]  # loading names loads its package
    assert "hadac.encode" not in graph["hadac.encode.tables"]  # its own package


def test_no_import_cycles():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


# Libraries that take from 0.1 s (jinja2) to seconds (scikit-learn) to import.
HEAVY = ("sklearn", "joblib", "scipy", "pandas", "pint", "matplotlib", "jinja2", "dask")
# And those a solve of a build does without, each some tens of milliseconds of every solve:
# lark parses only what a user types, the minizinc package (with asyncio) runs only solves
# through MiniZinc's Python interface and asks MiniZinc its version as it loads, and
# importlib.metadata reads only codecarbon's version.
SOLVE_DOES_WITHOUT = ("lark", "minizinc", "asyncio", "importlib.metadata")


def _imported_by(*args: str, among: tuple[str, ...] = HEAVY) -> set[str]:
    """The modules of `among` loaded by `hadac ARGS` in a new interpreter (it must
    succeed)."""
    script = textwrap.dedent(
        f"""
        import sys
        from hadac.cli import main
        try:
            main({list(args)!r})
        except SystemExit as stop:
            assert stop.code in (0, None), stop.code
        print(" ".join(sorted(name for name in {among!r} if name in sys.modules)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    return set(done.stdout.split()) & set(among)  # the command prints its own output first


def test_help_imports_no_heavy_library():
    assert _imported_by("--help") == set()


@pytest.mark.requires_solver("gecode")
def test_solving_a_build_whose_predictors_are_exact_imports_no_heavy_library(builds):
    """The answer is verified by numpy predictors, not by unpickling scikit-learn's models."""
    manifest = builds["tiny"].manifest
    assert all(s.predictor is not None and s.predictor.exact for s in manifest.surrogates)
    directory = str(builds["tiny"].directory)
    assert _imported_by("solve", directory, "--solver", "gecode") == set()


@pytest.mark.requires_solver("gecode")
def test_solving_a_build_through_its_prepared_flatzinc_loads_only_what_it_runs(builds):
    directory = str(builds["tiny"].directory)
    assert _imported_by("solve", directory, "--solver", "gecode", among=SOLVE_DOES_WITHOUT) == set()


def test_checking_a_spec_reads_its_data_without_pandas_or_dask():
    """`check` parses, checks units (pint) and reads the CSVs with the standard library."""
    assert _imported_by("check", "specs/tiny.hada") == {"pint", "scipy"}


def test_import_hadac_loads_the_api_only_when_asked():
    """`import hadac` is the version alone; `hadac.load` brings in the API, still without
    any heavy library (opening a build and solving need none)."""
    script = textwrap.dedent(
        """
        import sys
        import hadac
        before = sorted(name for name in sys.modules if name.startswith("hadac."))
        assert callable(hadac.load) and hadac.Study.__module__ == "hadac.api"
        heavy = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:]))
        print(before, heavy)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *HEAVY], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.split() == ["[]", "[]"]
