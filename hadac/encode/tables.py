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
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from hadac import onehot
from hadac.errors import HadacError
from hadac.units import Lowered, evaluate

if TYPE_CHECKING:
    from hadac.encode.quantities import Definition
    from hadac.fit import Fitted
    from hadac.problem import Problem


@dataclass
class Quantity:
    """Values of a quantity, one per configuration, and their ranks."""

    definition: Definition
    values: np.ndarray

    @property
    def name(self) -> str:
        return self.definition.name

    @cached_property
    def ranks(self) -> np.ndarray:
        """1 for the smallest distinct value, 2 for the next, and so on."""
        return np.unique(self.values, return_inverse=True)[1].astype(int) + 1

    @cached_property
    def distinct(self) -> np.ndarray:
        return np.unique(self.values)


def threshold(distinct: np.ndarray, op: str, bound: float, strict: bool = False) -> int:
    """The rank bound equivalent to `value op bound` (`<` or `>` when strict), given the
    sorted distinct values: `rank <= threshold` for <=, `rank >= threshold` for >=."""
    if op == "<=":
        return int(np.searchsorted(distinct, bound, side="left" if strict else "right"))
    return int(np.searchsorted(distinct, bound, side="right" if strict else "left")) + 1


@dataclass
class Tables:
    """All configurations and every quantity's value on each."""

    algorithm: np.ndarray  # index into problem.algorithms, per configuration
    hardware: np.ndarray  # index into problem.hardware
    pair: np.ndarray  # index into problem.pairs, from 1
    params: dict[tuple[str, str], np.ndarray]  # (algorithm, param) -> value per configuration
    pair_ranges: list[tuple[int, int]]  # first and last configuration (1-based) of each pair
    quantities: list[Quantity]

    @property
    def size(self) -> int:
        return len(self.algorithm)


def with_inputs(grid: np.ndarray, inputs: list[float]) -> np.ndarray:
    """Param combinations, one per row, with the instance inputs' values as further columns:
    the rows a surrogate of an algorithm with inputs predicts on."""
    if not inputs:
        return grid
    return np.column_stack([grid, np.tile(np.asarray(inputs, dtype=float), (len(grid), 1))])


def quantity_values(expr: Lowered, values: dict[str, np.ndarray], size: int) -> np.ndarray:
    """A quantity's value on every configuration, from the targets' and attributes' values;
    not finite where it divides by zero, for the caller to report."""
    with np.errstate(all="ignore"):
        return np.asarray(evaluate(expr, values), dtype=float) * np.ones(size)


def build_tables(
    problem: Problem, fitted: dict[tuple[str, str, str], Fitted], wanted: list[Definition]
) -> Tables:
    """Enumerate configurations pair by pair and evaluate every quantity on them.

    Only for problems `encode.model.shape_for` enumerates: every param finite, few configurations.
    Instance inputs take their reference values (`InputDomain.reference`); each solve
    computes the values again at its own (`BuildDir.at`).
    A let that is not a finite number everywhere (a division by zero) is left out; an
    objective's or a constraint's expression is an error.
    """
    algorithm_index = {a.name: i for i, a in enumerate(problem.algorithms)}
    hardware_index = {h.name: i for i, h in enumerate(problem.hardware)}

    algorithm_of, hardware_of, pair_of, ranges = [], [], [], []
    predictions: dict[str, list[np.ndarray]] = {t.name: [] for t in problem.targets}
    attributes: dict[str, list[np.ndarray]] = {
        name: [] for name in problem.attribute_units if name not in predictions
    }
    params: dict[tuple[str, str], list[np.ndarray]] = {
        (a.name, p.name): [] for a in problem.algorithms for p in a.params
    }
    for index, pair in enumerate(problem.pairs, start=1):
        info = problem.algorithm(pair.algorithm)
        grid = info.points(pair.table)  # a str param's name without data is never chosen
        count = len(grid)
        start = ranges[-1][1] if ranges else 0
        ranges.append((start + 1, start + count))
        algorithm_of.append(np.full(count, algorithm_index[pair.algorithm]))
        hardware_of.append(np.full(count, hardware_index[pair.hardware]))
        pair_of.append(np.full(count, index))
        for algorithm in problem.algorithms:
            for j, param in enumerate(algorithm.params):
                column = (
                    grid[:, j] if algorithm.name == pair.algorithm else np.full(count, param.low)
                )
                params[(algorithm.name, param.name)].append(column)
        x = onehot.raw(with_inputs(grid, [i.reference for i in info.inputs]), info.labels)
        for target in problem.targets:
            model = fitted[(pair.algorithm, pair.hardware, target.name)].estimator
            predictions[target.name].append(np.asarray(model.predict(x), dtype=float))
        numbers = problem.hardware_info(pair.hardware).numbers
        for name in attributes:
            attributes[name].append(np.full(count, numbers.get(name, np.nan)))

    values = {name: np.concatenate(parts) for name, parts in {**predictions, **attributes}.items()}
    size = sum(last - first + 1 for first, last in ranges)
    quantities = []
    for definition in wanted:
        result = quantity_values(definition.expr, values, size)
        if not np.all(np.isfinite(result)):
            if not definition.required:
                continue
            text, line = definition.blame
            raise HadacError(
                f"{problem.spec.path}:{line}: '{text}' is not a finite"
                " number for every configuration (a division by zero?)"
            )
        quantities.append(Quantity(definition, result))
    return Tables(
        np.concatenate(algorithm_of),
        np.concatenate(hardware_of),
        np.concatenate(pair_of),
        {key: np.concatenate(parts) for key, parts in params.items()},
        ranges,
        quantities,
    )
