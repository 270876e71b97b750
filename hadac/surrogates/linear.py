"""`linear`: least-squares regression, y = intercept + coef . x, one equation in the MIP."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from hadac.domains import ParamDomain
from hadac.surrogates.base import Kind

if TYPE_CHECKING:
    from sklearn.linear_model import LinearRegression

    from hadac.surrogates.splits import Splits


def interval(
    coefs: Iterable[float], constant: float, params: tuple[ParamDomain, ...]
) -> tuple[float, float]:
    """Bounds of constant + coefs . x over the params' boxes (interval arithmetic)."""
    low = high = constant
    for c, p in zip(coefs, params, strict=True):
        low += min(c * p.low, c * p.high)
        high += max(c * p.low, c * p.high)
    return low, high


class Linear(Kind):
    name = "linear"
    structure = "linear"
    template = "linear.mzn.j2"
    estimator_type = "LinearRegression"

    def estimator(self, args: dict[str, Any]) -> LinearRegression:
        from sklearn.linear_model import LinearRegression

        return LinearRegression()  # deterministic: nothing to seed

    def arrays(self, estimator: Any) -> dict[str, np.ndarray] | None:
        if not self.owns(estimator) or np.ndim(estimator.coef_) != 1:
            return None
        return {
            "coef": np.array(estimator.coef_, dtype=np.float64),
            "intercept": np.asarray(estimator.intercept_, dtype=np.float64).reshape(()),
        }

    def predict(self, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        return x @ arrays["coef"] + arrays["intercept"]  # as `LinearModel._decision_function`

    def encode_mip(
        self,
        estimator: LinearRegression,
        params: tuple[ParamDomain, ...],
        structure: str,
        shared: Splits,
    ) -> dict:
        coefs = [float(c) for c in estimator.coef_]
        intercept = float(estimator.intercept_)
        return {
            "template": self.template,
            "intercept": intercept,
            "data": {"COEF": coefs},
            "bounds": interval(coefs, intercept, params),
            "size": {"binaries": 0, "constraints": 1},
        }
