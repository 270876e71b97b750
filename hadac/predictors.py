"""Numpy predictors of the fitted estimators, proven equal to their `predict` when compiling.

Every answer is re-evaluated with the fitted estimators before it is shown. Unpickling them
needs scikit-learn, whose import alone takes seconds, longer than the rest of a solve; each
kind's module therefore repeats its estimator's `predict` with numpy (`Kind.arrays`,
`Kind.predict`). The compile saves those numbers beside the estimator and compares the two,
as float64 bits, on the rows the estimator was fitted on and on every configuration of its
algorithm (or, when they are too many or a param is continuous, a grid and a seeded sample
over the params' domains), whole and row by row as the verifier asks. A predictor is marked
exact only when all of them agree; the verifier uses the estimator for any other, so no
answer ever rests on a predictor that was not shown to be the estimator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hadac import onehot, surrogates
from hadac.domains import ParamDomain

ENUMERATED = 100_000  # every configuration is compared up to this many (the enumeration limit)
GRID = 4096  # otherwise, at most this many points of a grid over the params' domains
RANDOM = 1024  # and this many drawn at random (seeded) within them
SINGLE = 16  # rows also compared one at a time, as the verifier predicts


@dataclass(frozen=True)
class Proof:
    """A predictor's numbers and what comparing it with `predict` showed."""

    arrays: dict[str, np.ndarray]
    exact: bool
    rows: int


def points(params: tuple[ParamDomain, ...]) -> np.ndarray:
    """The rows a predictor is compared on besides the training rows, one per row: every
    configuration when there are few enough, else a grid over each param's domain (its
    values, evenly spaced, or a continuous range's ends and evenly spaced points between)
    and points drawn at random in the box."""
    if not params:
        return np.zeros((0, 0))
    if all(p.finite for p in params) and math.prod(len(p.values) for p in params) <= ENUMERATED:
        grids = [np.array(p.values, dtype=float) for p in params]
        return _product(grids)
    per_param = max(2, int(GRID ** (1 / len(params))))
    grids = []
    for p in params:
        if p.finite:
            values = np.array(p.values, dtype=float)
            picks = np.unique(np.linspace(0, len(values) - 1, min(per_param, len(values))))
            grids.append(values[picks.round().astype(int)])
        else:
            grids.append(np.linspace(p.low, p.high, per_param))
    rng = np.random.default_rng(0)
    drawn = np.column_stack(
        [
            rng.choice(np.array(p.values, dtype=float), RANDOM)
            if p.finite
            else rng.uniform(p.low, p.high, RANDOM)
            for p in params
        ]
    )
    return np.concatenate([_product(grids), drawn])


def _product(grids: list[np.ndarray]) -> np.ndarray:
    mesh = np.meshgrid(*grids, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh])


def _same(expected: Any, got: np.ndarray) -> bool:
    expected = np.asarray(expected)
    return (
        expected.dtype == np.float64
        and expected.shape == got.shape
        and expected.tobytes() == got.tobytes()
    )


def prove(kind: str, estimator: Any, rows: np.ndarray, labels: onehot.Labels = ()) -> Proof | None:
    """The numpy predictor of an estimator of `kind`, compared with its `predict` on `rows`
    (float64, the inputs in declared order, a str param's codes given to the estimator as
    the `labels` they stand for); None when the kind has none for it."""
    model, counts = onehot.unwrap(estimator)
    arrays = surrogates.kind(kind).arrays(model)
    if arrays is None:
        return None
    if counts is not None:
        arrays = arrays | {onehot.COUNTS: counts}
    rows = np.ascontiguousarray(rows, dtype=np.float64)

    def agree(x: np.ndarray) -> bool:
        return _same(estimator.predict(onehot.raw(x, labels)), predict(kind, arrays, x))

    exact = agree(rows)
    singles = np.unique(np.linspace(0, len(rows) - 1, min(SINGLE, len(rows))).round().astype(int))
    for i in singles if exact else ():
        exact = exact and agree(rows[i : i + 1])
    return Proof(arrays, exact, len(rows))


def predict(kind: str, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The predictions of the estimator whose numbers `arrays` are, on the rows of `x`
    (a str param's codes one-hot encoded first, as its pipeline does)."""
    x = np.asarray(x, dtype=np.float64)
    if onehot.COUNTS in arrays:
        x = onehot.encode(x, arrays[onehot.COUNTS])
    return surrogates.kind(kind).predict(arrays, x)


def load(path: Path) -> dict[str, np.ndarray]:
    """A predictor's numbers, as the compile saved them."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
