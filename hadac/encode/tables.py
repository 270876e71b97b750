"""The lookup-table encoding: every configuration enumerated, every surrogate evaluated.

A configuration is one algorithm on one hardware with one value for each of its params.
When every param has a finite domain, a surrogate is exactly the table of its predictions
over those values, and any expression of targets and hardware attributes is a table too.
Solvers then compare integer ranks (the position of a value among the table's distinct
values), which is exact for bounds and objectives, fits 32-bit CP solvers, and needs no
float propagation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hadac.encode import names
from hadac.errors import HadacError
from hadac.fit import Fitted
from hadac.problem import Bound, Problem
from hadac.units import Var, evaluate, pretty


@dataclass
class Quantity:
    """Values of a target or an expression, one per configuration, and their ranks."""

    name: str  # a target's name, or a `names.derived` one
    values: np.ndarray
    unit: str
    description: str

    @property
    def ranks(self) -> np.ndarray:
        """1 for the smallest distinct value, 2 for the next, and so on."""
        return np.unique(self.values, return_inverse=True)[1].astype(int) + 1

    @property
    def distinct(self) -> np.ndarray:
        return np.unique(self.values)

    def threshold(self, op: str, bound: float) -> int:
        """The rank bound equivalent to `value op bound`."""
        distinct = self.distinct
        if op == "<=":
            return int(np.searchsorted(distinct, bound, side="right"))
        return int(np.searchsorted(distinct, bound, side="left")) + 1


@dataclass
class Tables:
    """All configurations and the quantities the model constrains and optimises."""

    algorithm: np.ndarray  # index into problem.algorithms, per configuration
    hardware: np.ndarray  # index into problem.hardware
    params: dict[tuple[str, str], np.ndarray]  # (algorithm, param) -> value per configuration
    pair_ranges: list[tuple[int, int]]  # first and last configuration (1-based) of each pair
    targets: dict[str, Quantity]
    goal: Quantity | None
    bounds: list[tuple[Bound, Quantity]]

    @property
    def size(self) -> int:
        return len(self.algorithm)


def build_tables(problem: Problem, fitted: dict[tuple[str, str, str], Fitted]) -> Tables:
    """Enumerate configurations pair by pair and predict every target on them.

    Only for problems `encode.shape_for` enumerates: every param finite, few configurations.
    """
    algorithm_index = {a.name: i for i, a in enumerate(problem.algorithms)}
    hardware_index = {h.name: i for i, h in enumerate(problem.hardware)}
    points = {a.name: a.points() for a in problem.algorithms}

    algorithm_of, hardware_of, ranges = [], [], []
    predictions: dict[str, list[np.ndarray]] = {t.name: [] for t in problem.targets}
    attributes: dict[str, list[np.ndarray]] = {
        name: [] for name in problem.attribute_units if name not in predictions
    }
    params: dict[tuple[str, str], list[np.ndarray]] = {
        (a.name, p.name): [] for a in problem.algorithms for p in a.params
    }
    for pair in problem.pairs:
        grid = points[pair.algorithm]
        count = len(grid)
        start = ranges[-1][1] if ranges else 0
        ranges.append((start + 1, start + count))
        algorithm_of.append(np.full(count, algorithm_index[pair.algorithm]))
        hardware_of.append(np.full(count, hardware_index[pair.hardware]))
        for algorithm in problem.algorithms:
            for j, param in enumerate(algorithm.params):
                column = (
                    grid[:, j] if algorithm.name == pair.algorithm else np.full(count, param.low)
                )
                params[(algorithm.name, param.name)].append(column)
        for target in problem.targets:
            model = fitted[(pair.algorithm, pair.hardware, target.name)].estimator
            predictions[target.name].append(np.asarray(model.predict(grid), dtype=float))
        numbers = problem.hardware_info(pair.hardware).numbers
        for name in attributes:
            attributes[name].append(np.full(count, numbers.get(name, np.nan)))

    values = {name: np.concatenate(parts) for name, parts in {**predictions, **attributes}.items()}
    targets = {
        t.name: Quantity(
            t.name,
            values[t.name],
            t.unit_text,
            f'{t.name}: "{t.column}" in {t.unit_text} ~ {t.text}',
        )
        for t in problem.targets
    }

    def quantity(expr, unit, text, line, default_name) -> Quantity:
        if isinstance(expr, Var) and expr.name in targets:
            return targets[expr.name]
        with np.errstate(all="ignore"):
            result = np.asarray(evaluate(expr, values), dtype=float) * np.ones(
                len(values[problem.targets[0].name])
            )
        if not np.all(np.isfinite(result)):
            raise HadacError(
                f"{problem.spec.path}:{line}: '{text}' is not a finite number for every"
                " configuration (a division by zero?)"
            )
        return Quantity(default_name, result, pretty(unit), text)

    goal = None
    if problem.goal is not None:
        g = problem.goal
        goal = quantity(g.expr, g.unit, g.text, g.line, names.derived("objective"))
    bounds = [
        (b, quantity(b.expr, b.unit, b.text, b.line, names.derived(f"constraint_line_{b.line}")))
        for b in problem.bounds
    ]
    return Tables(
        np.concatenate(algorithm_of),
        np.concatenate(hardware_of),
        {key: np.concatenate(parts) for key, parts in params.items()},
        ranges,
        targets,
        goal,
        bounds,
    )
