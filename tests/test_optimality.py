"""Random small specs, solved, against exhaustive enumeration of the fitted estimators.

Each spec has 2 or 3 machines, 2 algorithms with 1 or 2 int params, four targets of random
kinds and encodings, a random objective and constraints placed at random quantiles. The
enumeration (tests/oracles.py) uses only the saved estimators and the spec's numbers. Every
seed is solved by every solver; a CP solver given a seed that drew the MIP model solves it
through the build's CP model (trees and tables only), or is checked to refuse it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from oracles import Configuration, configurations, optimum

from hadac import solvers as solver_table
from hadac import surrogates
from hadac.builddir import BuildDir
from hadac.compiler import compile_spec
from hadac.errors import HadacError
from hadac.solve import solve_build


def _written(value: object) -> str:
    """An argument's value as a spec writes it."""
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, tuple) else repr(value)


KINDS = [
    f"{name}({', '.join(f'{arg} = {_written(v)}' for arg, v in kind.example.items())})"
    for name, kind in surrogates.KINDS.items()
]
TARGETS = ["t0", "t1", "t2", "t3"]


def _make(seed: int, folder, mip_encoding: str = "structure"):
    rng = np.random.default_rng(seed)
    machines = [f"m{i}" for i in range(int(rng.integers(2, 4)))]
    prices = {m: round(float(rng.uniform(0.1, 3.0)), 2) for m in machines}
    algorithms = {}
    for a in ("alpha", "beta"):
        params = {
            f"p{j}": sorted(
                rng.choice(np.arange(1, 13), int(rng.integers(3, 6)), replace=False).tolist()
            )
            for j in range(int(rng.integers(1, 3)))
        }
        algorithms[a] = params
    structure = bool(rng.integers(0, 2))
    lines = [f"spec random{seed}"]
    lines += [f"hardware {m} {{ price = {prices[m]} EUR/h }}" for m in machines]
    for a, params in algorithms.items():
        lines.append(f"algorithm {a} {{")
        lines += [
            f"  param {p}: int in {{{', '.join(map(str, vals))}}}" for p, vals in params.items()
        ]
        for m in machines:
            rows = []
            for point in itertools.product(*params.values()):
                for _ in range(4):  # at least hadac.fit.MIN_ROWS rows
                    x = np.array(point, dtype=float)
                    ys = [
                        float(np.sum(x * rng.uniform(0.5, 2.0)) + rng.normal(0, 0.5) + 5)
                        for _ in TARGETS
                    ]
                    rows.append(list(point) + ys)
            path = folder / f"{a}_{m}.csv"
            header = ",".join(list(params) + TARGETS)
            path.write_text(
                header
                + "\n"
                + "\n".join(
                    ",".join(
                        repr(float(v)) if i >= len(params) else str(int(v)) for i, v in enumerate(r)
                    )
                    for r in rows
                )
                + "\n"
            )
            lines.append(f'  data {m} = "{path.name}"')
        lines.append("}")
    encoding = f", encoding = {mip_encoding}" if structure else ""
    kinds = {}
    for t in TARGETS:
        kind = KINDS[int(rng.integers(0, len(KINDS)))]
        kinds[t] = kind
        inner = kind[kind.index("(") + 1 : -1] if "(" in kind else ""
        name = kind.split("(")[0]
        args = ", ".join(a for a in (inner, encoding.strip(", ")) if a)
        lines.append(f'target {t} = "{t}" in s ~ {name}({args})')
    sense = "minimize" if rng.integers(0, 2) else "maximize"
    use_price = bool(rng.integers(0, 2))
    lines.append(f"{sense} price * t0" if use_price else f"{sense} t0")
    quantiles = {t: float(rng.uniform(0.3, 0.9)) for t in ("t1", "t2")}
    return lines, machines, prices, algorithms, sense, use_price, quantiles


def _enumerate(build_dir, machines, prices, algorithms, sense, use_price, bounds):
    pairs = [(a, m) for a in algorithms for m in machines]
    domains = {a: tuple(params.values()) for a, params in algorithms.items()}

    def value(c: Configuration) -> float | None:
        p = c.predicted
        if not all(p[t] <= b for t, b in bounds.items()):
            return None
        return prices[c.hardware] * p["t0"] / 3600 if use_price else p["t0"]

    return optimum(configurations(build_dir, pairs, domains, TARGETS), value, sense)


@dataclass(frozen=True)
class Case:
    """One seed's spec, compiled, and the optimum enumeration finds for it (None when no
    configuration is feasible)."""

    spec: Path
    build: Path
    shape: str
    expected: float | None


def _case(seed: int, folder: Path, mip_encoding: str) -> Case:
    lines, machines, prices, algorithms, sense, use_price, quantiles = _make(
        seed, folder, mip_encoding
    )
    # Place the bounds at quantiles of the data's columns, so they bind but leave room.
    columns = {t: [] for t in quantiles}
    for path in folder.glob("*.csv"):
        header, *rows = path.read_text().split("\n")
        names = header.split(",")
        for row in filter(None, rows):
            values = dict(zip(names, row.split(","), strict=True))
            for t in columns:
                columns[t].append(float(values[t]))
    bounds = {t: round(float(np.quantile(columns[t], q)), 3) for t, q in quantiles.items()}
    lines += [f"constraint {t} <= {b} s" for t, b in bounds.items()]
    spec = folder / "spec.hada"
    spec.write_text("\n".join(lines) + "\n")
    build = compile_spec(spec, folder / "build")
    expected = _enumerate(build.directory, machines, prices, algorithms, sense, use_price, bounds)
    return Case(spec, build.directory, build.manifest.model.shape, expected)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Case]:
    """Each seed's case, compiled once for every solver that solves it."""
    made: dict[tuple[int, str], Case] = {}

    def case(seed: int, mip_encoding: str = "structure") -> Case:
        if (seed, mip_encoding) not in made:
            folder = tmp_path_factory.mktemp(f"random{seed}-{mip_encoding}")
            made[(seed, mip_encoding)] = _case(seed, folder, mip_encoding)
        return made[(seed, mip_encoding)]

    return case


@pytest.mark.requires_solver
@pytest.mark.parametrize("solver", solver_table.names())
@pytest.mark.parametrize("seed", range(8))
def test_random_spec_optimum_equals_enumeration(seed, solver, cases):
    case = cases(seed)
    build = BuildDir(case.build)
    if case.shape == "mip" and solver_table.family(solver) == "CP" and not build.manifest.model.cp:
        # The seed drew `encoding = structure` with a linear or MLP surrogate: a CP solver
        # must refuse the MIP build, which then has no CP model.
        with pytest.raises(HadacError, match="is a CP solver"):
            solve_build(build, solver)
        return
    answer = solve_build(build, solver)
    if case.expected is None:
        assert answer.status == "INFEASIBLE", (solver, case.shape)
        return
    assert answer.status == "OPTIMAL", (solver, case.shape)
    assert answer.objective == pytest.approx(case.expected, rel=1e-6), (
        solver,
        case.shape,
        case.spec.read_text(),
    )


@pytest.mark.requires_solver
@pytest.mark.parametrize("solver", solver_table.of_family("MIP"))
def test_leaf_selection_optimum_equals_enumeration(solver, cases):
    """Seed 0 draws the MIP model with trees and forests only: the same spec with leaf
    selection (`encoding = leaves`) in place of the default shared splits."""
    case = cases(0, "leaves")
    assert case.shape == "mip"
    answer = solve_build(BuildDir(case.build), solver)
    assert answer.status == "OPTIMAL", solver
    assert answer.objective == pytest.approx(case.expected, rel=1e-6), solver
    assert answer.objective == pytest.approx(cases(0).expected, rel=1e-6), solver
