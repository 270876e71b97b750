"""A hyperparameter's domain, the one type the checked problem and `bench` lines share.

It lives on its own so that `hadac.problem` (which holds each algorithm's bench setup) and
`hadac.benchspec` (which sizes a design over the params) can both name it without
importing each other, and so that the surrogate encoders need nothing else of the problem.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParamDomain:
    """A hyperparameter and its values. `values` is None for a continuous float range."""

    name: str
    type: str
    low: float
    high: float
    values: tuple[float, ...] | None
    line: int

    @property
    def finite(self) -> bool:
        return self.values is not None
