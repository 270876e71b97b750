"""How a scikit-learn tree's threshold divides a param's domain, for every tree encoding.

A sample goes left when `float32(x) <= threshold`. On a finite domain a split is given by
the domain's own values on each side of the threshold, so no value ever lands on the wrong
side; on a continuous range each side stops a small margin short of the threshold, which
can only exclude values, never misplace one.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from hadac.domains import ParamDomain

MARGIN = 1e-6  # of the range's width, for continuous params


def split_values(param: ParamDomain, threshold: float) -> tuple[float, float]:
    """The largest value that goes left and the smallest that goes right (each side
    `MARGIN` of the range short of the threshold on a continuous range)."""
    if param.values is not None:
        values = np.array(param.values)
        left = values[values.astype(np.float32) <= threshold]
        right = values[values.astype(np.float32) > threshold]
        return (
            float(left.max()) if left.size else -math.inf,
            float(right.min()) if right.size else math.inf,
        )
    margin = MARGIN * max(1.0, param.high - param.low)
    return threshold - margin, threshold + margin


def holds_a_value(param: ParamDomain, low: float, high: float) -> bool:
    """Whether the interval [low, high] holds a value of the domain (found by bisection:
    the encoders ask once per leaf and param)."""
    if param.values is not None:
        first = bisect.bisect_left(param.values, low)
        return first < len(param.values) and param.values[first] <= high
    return low <= high
