"""Pre-activation bounds of ReLU networks: interval arithmetic, then LP tightening. Every
bound must hold at every point of the box (sampled, corners included), and tightening may
only narrow them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hadac.surrogates import relu_bounds


def _network(sizes: list[int], seed: int):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(a, b)) / np.sqrt(a) for a, b in itertools.pairwise(sizes)]
    biases = [rng.normal(size=b) * 0.3 for b in sizes[1:]]
    return weights, biases


def _pre_activations(weights, biases, x: np.ndarray) -> list[np.ndarray]:
    out, h = [], x
    for w, b in zip(weights, biases, strict=True):
        a = h @ w + b
        out.append(a)
        h = np.maximum(a, 0.0)
    return out


@pytest.mark.parametrize(
    ("sizes", "seed"), [([2, 32, 32, 1], 0), ([3, 16, 16, 16, 1], 1), ([4, 24, 12, 1], 2)]
)
def test_tightened_bounds_hold_everywhere_and_are_never_looser(sizes, seed):
    weights, biases = _network(sizes, seed)
    low, high = np.zeros(sizes[0]), np.full(sizes[0], 2.0)
    loose = relu_bounds.interval_bounds(weights, biases, low, high)
    tight = relu_bounds.tightened_bounds(weights, biases, low, high)
    rng = np.random.default_rng(seed)
    corners = np.array(list(itertools.product(*zip(low, high, strict=True))))
    points = np.vstack([corners, rng.uniform(low, high, size=(20_000, sizes[0]))])
    for layer, a in enumerate(_pre_activations(weights, biases, points)):
        assert np.all(a >= tight[layer].low) and np.all(a <= tight[layer].high), layer
        assert np.all(tight[layer].low >= loose[layer].low)
        assert np.all(tight[layer].high <= loose[layer].high)
    np.testing.assert_array_equal(tight[0].low, loose[0].low)  # exact on the first layer
    assert sum(b.unstable() for b in tight[:-1]) < sum(b.unstable() for b in loose[:-1])
    width = lambda bounds: float(bounds[-1].high[0] - bounds[-1].low[0])  # noqa: E731
    assert width(tight) < width(loose) / 2
