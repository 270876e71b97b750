"""Fitting a surrogate: the estimator its kind builds, fitted on all rows, and its holdout.

What each kind takes and builds is its own module's business (`hadac.surrogates`); this
module fits the same way whatever the kind, so that holdout metrics and the calibration
rows of confidence constraints mean the same for all of them. Every estimator is seeded
(`random_state=0`) and the split is fixed, so the same data give the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hadac import onehot, surrogates

if TYPE_CHECKING:  # imported where it fits: checking a spec needs no scikit-learn
    from sklearn.base import RegressorMixin


def _constant(args: dict) -> RegressorMixin:
    from sklearn.dummy import DummyRegressor

    return DummyRegressor(strategy="mean")


@dataclass
class Fitted:
    """A fitted estimator and how well a copy trained on 80% predicted the other 20%."""

    estimator: RegressorMixin
    r2: float | None
    mae: float | None
    rows: int
    # The 20% held out and what the 80% copy predicted there: the calibration set of
    # confidence-bounded constraints (hadac.conformal) and the fit plots of reports.
    holdout_y: np.ndarray | None = None
    holdout_predicted: np.ndarray | None = None
    # The rows it was fitted on, codes for str params, where its numpy predictor is
    # compared (hadac.predictors).
    inputs: np.ndarray | None = None


MIN_ROWS = 10  # the fewest rows a surrogate is fitted on: 8 to fit a copy, 2 to check it
HOLDOUT = 0.2  # the share of rows held out to measure a fit and calibrate confidences


def fit(kind: str, args: dict, x: np.ndarray, y: np.ndarray, labels: onehot.Labels = ()) -> Fitted:
    """Fit on all rows; holdout metrics come from a fixed 80/20 split (random_state=0).

    `labels` gives each column of `x` that holds a str param's codes its names: the
    estimator is then a pipeline that one-hot encodes them (`hadac.onehot`) and takes names.
    An algorithm without params is one program: each target is its mean on the pair's
    rows, whatever the kind asked for, and R² (which a constant cannot have) is left out.
    """
    from sklearn.metrics import mean_absolute_error, r2_score
    from sklearn.model_selection import train_test_split

    def build(args: dict) -> RegressorMixin:
        if not x.shape[1]:
            return _constant(args)
        estimator = surrogates.kind(kind).estimator(args)
        return onehot.pipeline(estimator, labels) if any(labels) else estimator

    given = onehot.raw(x, labels)
    r2 = mae = y_test = held = None
    if len(y) >= MIN_ROWS:
        x_train, x_test, y_train, y_test = train_test_split(
            given, y, test_size=HOLDOUT, random_state=0
        )
        held = build(args).fit(x_train, y_train).predict(x_test)
        mae = float(mean_absolute_error(y_test, held))
        r2 = float(r2_score(y_test, held)) if np.ptp(y_test) > 0 and x.shape[1] else None
    return Fitted(build(args).fit(given, y), r2, mae, len(y), y_test, held, x)
