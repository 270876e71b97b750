"""ReLU networks in the CP model (`hadac.encode.cp`), in integer fixed point.

A network's hidden values are integers in units of 1 / `scale`, each neuron as two sums,
`low <= scale * a <= high`, so that Gecode computes with integers only and the model stays
a relaxation that `hadac.cpsolve` makes exact. The first layer reads the params by
position: per param and neuron a table of its share at each position (the bias in the
first param's), rounded down into `low` and up into `high`. A later layer's neuron is
`floor(sum_j c_j z_j / R)` with integer weights `c_j` (each weight times R, rounded down
on the low side and up on the high side, each applied to the end of its input's interval
that keeps the sum a bound), and one unit further out for the float rounding of `predict`.
ReLU is `max(0, .)` of both ends. The output is not a variable of its own: per quantity and
pair that adds the network, a head sums the last hidden layer with the output weights times
the quantity's weight and fixed point, and the output's bias joins the quantity's constant.

Sums of products stay below 2^52 (Gecode computes linear sums exactly in doubles) and every
coefficient and hidden value within 32 bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hadac.encode.fixedpoint import LIMIT
from hadac.surrogates import relu_bounds
from hadac.surrogates.mlp import folded

RESOLUTION = 10**6  # R at most: a weight's rounding costs 1e-6 of its input
COEFFICIENT_LIMIT = 2**30
PRODUCT_LIMIT = 2**52


@dataclass
class Network:
    """One fitted network over positions: its pairs (those whose surrogate of `target` it
    is), its params (global indices), its layers with the scalers folded in, their
    pre-activation bounds over the params' box, and its fixed point."""

    pairs: tuple[int, ...]
    target: str
    params: list[int]
    domains: list[tuple[float, ...]]
    weights: list[np.ndarray]  # (inputs, outputs) per layer
    biases: list[np.ndarray]
    bounds: list[relu_bounds.LayerBounds]
    scale: float
    heads: list[dict] = field(default_factory=list)  # per (quantity, pair), by `head`

    @classmethod
    def of(
        cls,
        arrays: dict[str, np.ndarray],
        pairs: tuple[int, ...],
        target: str,
        params: list[int],
        domains: list[tuple[float, ...]],
    ) -> Network:
        """The network of a fitted `mlp` (`MLP.arrays`), its scalers folded into its first
        and last layers, its hidden values in a fixed point within `LIMIT`."""
        count = sum(1 for name in arrays if name.startswith("W"))
        weights, biases = folded(
            arrays["x_mean"],
            arrays["x_scale"],
            [arrays[f"W{i}"] for i in range(count)],
            [arrays[f"B{i}"] for i in range(count)],
            float(arrays["y_mean"][0]),
            float(arrays["y_scale"][0]),
        )
        low = np.array([min(d) for d in domains], dtype=float)
        high = np.array([max(d) for d in domains], dtype=float)
        bounds = relu_bounds.interval_bounds(weights, biases, low, high)
        widest = max(float(np.max(np.abs(np.concatenate([b.low, b.high])))) for b in bounds[:-1])
        scale = LIMIT / max(widest, 1e-9)
        return cls(
            tuple(pairs), target, list(params), list(domains), weights, biases, bounds, scale
        )

    @property
    def offset(self) -> float:
        """The output's bias: the network adds it to a quantity's constant."""
        return float(self.biases[-1][0])

    def output_range(self) -> tuple[float, float]:
        """The output without its bias, over the params' box."""
        last = self.bounds[-1]
        return float(last.low[0]) - self.offset, float(last.high[0]) - self.offset

    def first_layer(self) -> list[dict]:
        """Per param, each neuron's share at each position, in fixed point: `low` rounded
        down and `high` up, one unit further each."""
        out = []
        for i, values in enumerate(self.domains):
            share = np.outer(self.weights[0][i], np.array(values, dtype=float))
            if i == 0:
                share += self.biases[0][:, None]
            share *= self.scale
            out.append(
                {
                    "low": (np.floor(share) - 1).astype(int).tolist(),
                    "high": (np.ceil(share) + 1).astype(int).tolist(),
                }
            )
        return out

    def _inputs_max(self, layer: int) -> np.ndarray:
        """The largest fixed-point value of each input of `layer` (> 0), a ReLU output."""
        bound = self.bounds[layer - 1].high
        return np.maximum(np.ceil(np.maximum(bound, 0.0) * self.scale) + 2 * len(bound), 1.0)

    def hidden_layers(self) -> list[dict]:
        """The hidden layers after the first: per neuron its integer weights on each side
        and its bias, rounded outwards, and the layer's resolution R."""
        out = []
        for layer in range(1, len(self.weights) - 1):
            w, b = self.weights[layer], self.biases[layer]
            r = _resolution(w, self._inputs_max(layer))
            out.append(
                {
                    "size": w.shape[1],
                    "R": r,
                    "low": np.floor(w.T * r).astype(int).tolist(),
                    "high": np.ceil(w.T * r).astype(int).tolist(),
                    "negative": (w.T < 0).tolist(),
                    "bias_low": (np.floor(b * self.scale) - 1).astype(int).tolist(),
                    "bias_high": (np.ceil(b * self.scale) + 1).astype(int).tolist(),
                }
            )
        return out

    def head(self, quantity: int, pair: int, factor: float) -> dict:
        """The head that adds `factor` times the output (its bias aside) to a quantity in
        its fixed point (`factor` is the quantity's weight of the target times its scale)."""
        k = self.weights[-1][:, 0] * (factor / self.scale)
        r = _resolution(k[:, None], self._inputs_max(len(self.weights) - 1))
        return {
            "quantity": quantity,
            "pair": pair,
            "R": r,
            "low": np.floor(k * r).astype(int).tolist(),
            "high": np.ceil(k * r).astype(int).tolist(),
            "negative": (k < 0).tolist(),
        }


def _resolution(w: np.ndarray, inputs_max: np.ndarray) -> int:
    """R for a layer of weights `w` (inputs, outputs): at most `RESOLUTION`, each weight
    times R within 32 bits and every neuron's sum of products below 2^52."""
    largest = float(np.max(np.abs(w))) if w.size else 0.0
    products = float(np.max(np.abs(w).T @ inputs_max)) if w.size else 0.0
    r = RESOLUTION
    if largest > 0:
        r = min(r, math.floor(COEFFICIENT_LIMIT / largest))
    if products > 0:
        r = min(r, math.floor(PRODUCT_LIMIT / products))
    return max(r, 1)
