"""Linear regression: y = intercept + coef . x, one equation."""

from __future__ import annotations

from hadac.problem import ParamDomain


def interval(coefs, constant: float, params: tuple[ParamDomain, ...]) -> tuple[float, float]:
    """Bounds of constant + coefs . x over the params' boxes (interval arithmetic)."""
    low = high = constant
    for c, p in zip(coefs, params, strict=True):
        low += min(c * p.low, c * p.high)
        high += max(c * p.low, c * p.high)
    return low, high


def encode(estimator, params: tuple[ParamDomain, ...]) -> dict:
    coefs = [float(c) for c in estimator.coef_]
    intercept = float(estimator.intercept_)
    return {
        "template": "linear.mzn.j2",
        "intercept": intercept,
        "data": {"COEF": coefs},
        "bounds": interval(coefs, intercept, params),
        "size": {"binaries": 0, "constraints": 1},
    }
