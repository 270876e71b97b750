"""The checked problem: what a spec means once names, domains, units and data are verified.

`checks.check` builds it from the syntax tree; fitting, encoding, solving and verification
read only this, never the raw tree, so they can trust every name and every number.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hadac import ast
from hadac.benchspec import BenchSetup
from hadac.datafile import Table
from hadac.domains import InputDomain, ParamDomain
from hadac.units import Lowered, pretty

if TYPE_CHECKING:
    import pint


@dataclass(frozen=True)
class AlgorithmInfo:
    name: str
    params: tuple[ParamDomain, ...]
    line: int
    bench: BenchSetup | None = None  # what `hadac bench` runs; None without a run line
    inputs: tuple[InputDomain, ...] = ()  # the surrogates' inputs after the params

    @property
    def features(self) -> list[str]:
        """The columns every surrogate of the algorithm takes, in order: params, then inputs."""
        return [p.name for p in self.params] + [i.name for i in self.inputs]

    @property
    def feature_domains(self) -> tuple[ParamDomain, ...]:
        """The features' domains in the same order, each input as its continuous range:
        what the MIP encoders bound a surrogate over."""
        return (*self.params, *(i.as_range() for i in self.inputs))

    @property
    def labels(self) -> list[tuple[str, ...] | None]:
        """Per feature, a str param's names (None for a number): what `hadac.onehot`
        needs to give the fitted pipelines names rather than codes."""
        return [p.labels for p in self.params] + [None] * len(self.inputs)

    def points(self, table: Table | None = None) -> np.ndarray:
        """Every combination of param values, one row each, first param varying slowest;
        with a pair's `table`, only those whose every str param's name has a row there (a
        surrogate knows nothing of a name its data lack)."""
        grids = [p.values for p in self.params]
        if not grids:
            return np.zeros((1, 0))
        grid = np.array(list(itertools.product(*grids)), dtype=float)
        for j, code in self.absent(table) if table is not None else ():
            grid = grid[grid[:, j] != code]
        return grid

    def absent(self, table: Table) -> list[tuple[int, float]]:
        """(param index, code) of each str param's name that no row of `table` has."""
        out = []
        for j, p in enumerate(self.params):
            if p.labels is not None:
                seen = set(table[p.name].tolist())
                out += [(j, code) for code in p.values if code not in seen]
        return out


@dataclass(frozen=True)
class HardwareInfo:
    name: str
    numbers: dict[str, float]  # numeric attributes, in the unit each was written with
    strings: dict[str, str | tuple[str, ...]]
    line: int
    base: str | None = None  # the declared hardware, when this entry is one of its locations


@dataclass(frozen=True)
class Pair:
    """An algorithm on a hardware platform, with its benchmark data."""

    algorithm: str
    hardware: str
    data_path: Path
    table: Table  # the columns the surrogates use
    line: int


@dataclass(frozen=True)
class SharedData:
    """`data = "file.csv"` of an algorithm: benchmarks that hold on every hardware (HADA's
    quality of a precision setting, measured once). Each target whose column is in it is
    fitted once on it, and that surrogate serves every pair of the algorithm."""

    algorithm: str
    data_path: Path
    table: Table  # the features and the columns of `targets`
    targets: tuple[str, ...]  # the targets it holds, in the spec's order
    line: int


@dataclass(frozen=True)
class TargetInfo:
    name: str
    column: str
    unit: pint.Unit
    kind: str
    args: dict
    line: int
    text: str  # the surrogate as written, e.g. "tree(max_depth = 10)"
    # "table", "structure" or the name of one of the kind's MIP encodings, when the spec
    # asks for one
    encoding: str | None = None

    @property
    def unit_text(self) -> str:
        return pretty(self.unit)


@dataclass(frozen=True)
class Goal:
    """The objective: `sense` applied to a lowered expression valued in `unit`."""

    sense: str
    expr: Lowered
    unit: pint.Unit | None
    text: str
    line: int


@dataclass(frozen=True)
class Bound:
    """A constraint `expr op bound`, expr valued in `unit`."""

    expr: Lowered
    op: str  # "<=" or ">="
    bound: float
    unit: pint.Unit | None
    text: str
    line: int
    confidence: float | None = None  # tighten by conformal margins (hadac.conformal)
    written_unit: pint.Unit | None = None  # the bound's own unit: `1 mg` on a kg target

    def holds(self, value: np.ndarray | float) -> np.ndarray | bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound


@dataclass(frozen=True)
class Problem:
    """Everything later stages read; frozen, so that no stage changes what another sees."""

    spec: ast.Spec
    hardware: list[HardwareInfo]
    algorithms: list[AlgorithmInfo]
    pairs: list[Pair]
    targets: list[TargetInfo]
    goal: Goal | None
    bounds: list[Bound]
    solver: str | None
    attribute_units: dict[str, pint.Unit] = field(default_factory=dict)
    lets: list = field(default_factory=list)  # hadac.lets.LetInfo, in source order
    location: str | None = None  # every hardware's location, from --location
    shared: list[SharedData] = field(default_factory=list)  # hardware-independent data

    @property
    def name(self) -> str:
        return self.spec.title

    def algorithm(self, name: str) -> AlgorithmInfo:
        return next(a for a in self.algorithms if a.name == name)

    @property
    def inputs(self) -> list[InputDomain]:
        """Each instance input once, in the order first declared (the checks made every
        algorithm that reads a name declare it alike)."""
        first: dict[str, InputDomain] = {}
        for algorithm in self.algorithms:
            for item in algorithm.inputs:
                first.setdefault(item.name, item)
        return list(first.values())

    def readers(self, name: str) -> list[str]:
        """The algorithms that read input `name`."""
        return [a.name for a in self.algorithms if name in {i.name for i in a.inputs}]

    def shared_data(self, algorithm: str, target: str) -> SharedData | None:
        """The hardware-independent data `target` of `algorithm` is fitted on, if any."""
        return next(
            (s for s in self.shared if s.algorithm == algorithm and target in s.targets), None
        )

    def target(self, name: str) -> TargetInfo:
        return next(t for t in self.targets if t.name == name)

    def hardware_info(self, name: str) -> HardwareInfo:
        return next(h for h in self.hardware if h.name == name)
