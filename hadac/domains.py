"""A hyperparameter's domain, the one type the checked problem and `bench` lines share.

It lives on its own so that `hadac.problem` (which holds each algorithm's bench setup) and
`hadac.benchspec` (which sizes a design over the params) can both name it without
importing each other, and so that the surrogate encoders need nothing else of the problem.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParamDomain:
    """A hyperparameter and its values, in ascending order. `values` is None for a
    continuous float range.

    A str param's values are the positions 0, 1, ... of its `labels` in the order declared:
    the data, the tables and the models' variables hold those codes, and only the fitted
    pipelines (which one-hot encode them, `hadac.onehot`) and what a person reads see the
    names.
    """

    name: str
    type: str
    low: float
    high: float
    values: tuple[float, ...] | None
    line: int
    labels: tuple[str, ...] | None = None

    @property
    def finite(self) -> bool:
        return self.values is not None

    @property
    def categorical(self) -> bool:
        return self.labels is not None


@dataclass(frozen=True)
class InputDomain:
    """An instance feature: a column of the data that the surrogates take after the params,
    whose value is given at each solve rather than chosen. The range says where the data
    hold it (a value outside is extrapolated); `default` is taken when a solve gives none."""

    name: str
    type: str
    low: float
    high: float
    default: float | None
    line: int

    def as_range(self) -> ParamDomain:
        """The range as a continuous domain, for the encoders and the data checks."""
        return ParamDomain(self.name, self.type, self.low, self.high, None, self.line)

    @property
    def reference(self) -> float:
        """The value a build's saved tables and ranges are computed at: the default, else
        the middle of the range (rounded down for an int)."""
        if self.default is not None:
            return self.default
        middle = (self.low + self.high) / 2
        return float(int(middle // 1)) if self.type == "int" else middle

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high
