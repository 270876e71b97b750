"""Bounds on every pre-activation of a ReLU network over the params' box.

Interval arithmetic gives each neuron's [L, U] from the box and the layer before; it is
exact for the first layer but loose beyond it, because it treats the previous layer's
neurons as independent. Optimisation-based bound tightening then bounds each later neuron
by two small LPs (its minimum and its maximum) over the box and the LP relaxation of the
layers before it, each ReLU by its triangle: h >= 0, h >= a, h <= U (a - L) / (U - L).
The relaxation contains every point the network can reach, so an LP's optimum never cuts
a reachable value off; each bound is then widened by a margin far above the LP solver's
tolerances and kept only where it is tighter than the interval's. A neuron whose bounds
then have one sign needs no binary in the MIP model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAD = 1e-9  # relative to the size of a neuron's terms: MiniZinc's rounding of its sum
MARGIN = 1e-6  # relative to the same size: an LP bound is widened by this much


@dataclass
class LayerBounds:
    """One layer's pre-activation bounds, padded, and each neuron's pad."""

    low: np.ndarray
    high: np.ndarray
    pad: np.ndarray

    def unstable(self) -> int:
        """Neurons whose sign the bounds leave open: each a binary of the MIP model."""
        return int(np.sum((self.low < 0) & (self.high > 0)))


def _interval(w, b, low, high) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[L, U] of `b + x @ w` for x in the box [low, high], and the size of its terms."""
    pre_low = b + np.minimum(w * low[:, None], w * high[:, None]).sum(axis=0)
    pre_high = b + np.maximum(w * low[:, None], w * high[:, None]).sum(axis=0)
    terms = np.abs(b) + (np.abs(w) * np.maximum(np.abs(low), np.abs(high))[:, None]).sum(0)
    return pre_low, pre_high, np.maximum(terms, 1.0)


def interval_bounds(weights, biases, low, high) -> list[LayerBounds]:
    """Every layer's bounds by interval arithmetic alone, padded for MiniZinc's rounding."""
    out = []
    for w, b in zip(weights, biases, strict=True):
        pre_low, pre_high, terms = _interval(w, b, low, high)
        pad = PAD * terms
        out.append(LayerBounds(pre_low - pad, pre_high + pad, pad))
        low, high = np.maximum(pre_low - pad, 0.0), np.maximum(pre_high + pad, 0.0)
    return out


class _Relaxation:
    """The LP relaxation of the network's first layers over the box: its variables are the
    params, then per layer its pre-activations a and outputs h."""

    def __init__(self, low: np.ndarray, high: np.ndarray):
        self.bounds: list[tuple[float, float]] = list(zip(low, high, strict=True))
        self.eq: list[tuple[dict[int, float], float]] = []
        self.ub: list[tuple[dict[int, float], float]] = []
        self.last = list(range(len(low)))  # the variables of the latest layer's outputs

    def _new(self, low: float, high: float) -> int:
        self.bounds.append((low, high))
        return len(self.bounds) - 1

    def add_layer(self, w: np.ndarray, b: np.ndarray, bounds: LayerBounds) -> None:
        outputs = []
        for j in range(w.shape[1]):
            lo, hi = float(bounds.low[j]), float(bounds.high[j])
            a = self._new(lo, hi)
            row = {v: -float(w[i, j]) for i, v in enumerate(self.last) if w[i, j] != 0.0}
            self.eq.append(({**row, a: 1.0}, float(b[j])))
            h = self._new(max(lo, 0.0), max(hi, 0.0))
            if lo >= 0:
                self.eq.append(({h: 1.0, a: -1.0}, 0.0))
            elif hi > 0:  # the triangle: h >= a and h <= hi (a - lo) / (hi - lo)
                slope = hi / (hi - lo)
                self.ub.append(({a: 1.0, h: -1.0}, 0.0))
                self.ub.append(({h: 1.0, a: -slope}, -slope * lo))
            outputs.append(h)
        self.last = outputs

    def extremes(self, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The least and greatest value of each `b + h @ w` over the relaxation (nan where
        the LP solver gave no optimum)."""
        from scipy.optimize import linprog
        from scipy.sparse import coo_array

        def matrix(rows):
            if not rows:
                return None, None
            entries = [(r, c, v) for r, (coefs, _) in enumerate(rows) for c, v in coefs.items()]
            r, c, v = zip(*entries, strict=True)
            shape = (len(rows), len(self.bounds))
            return coo_array((v, (r, c)), shape=shape).tocsr(), [rhs for _, rhs in rows]

        a_eq, b_eq = matrix(self.eq)
        a_ub, b_ub = matrix(self.ub)
        least, greatest = np.full(w.shape[1], np.nan), np.full(w.shape[1], np.nan)
        for j in range(w.shape[1]):
            cost = np.zeros(len(self.bounds))
            cost[self.last] = w[:, j]
            for sign, out in ((1.0, least), (-1.0, greatest)):
                found = linprog(sign * cost, a_ub, b_ub, a_eq, b_eq, self.bounds, method="highs")
                if found.status == 0:
                    out[j] = sign * found.fun + b[j]
        return least, greatest


def tightened_bounds(weights, biases, low, high) -> list[LayerBounds]:
    """Every layer's bounds: interval arithmetic for the first layer (exact there), then
    each later layer's interval bounds tightened by LPs over the layers before it."""
    first = interval_bounds(weights[:1], biases[:1], low, high)
    out = list(first)
    relaxation = _Relaxation(low, high)
    relaxation.add_layer(weights[0], biases[0], first[0])
    for index in range(1, len(weights)):
        w, b = weights[index], biases[index]
        prev = out[-1]
        pre_low, pre_high, terms = _interval(
            w, b, np.maximum(prev.low, 0.0), np.maximum(prev.high, 0.0)
        )
        least, greatest = relaxation.extremes(w, b)
        margin = MARGIN * terms
        pre_low = np.where(np.isnan(least), pre_low, np.maximum(pre_low, least - margin))
        pre_high = np.where(np.isnan(greatest), pre_high, np.minimum(pre_high, greatest + margin))
        pad = PAD * terms
        bounds = LayerBounds(pre_low - pad, pre_high + pad, pad)
        out.append(bounds)
        if index < len(weights) - 1:
            relaxation.add_layer(w, b, bounds)
    return out
