"""`forest(n_estimators = N, max_depth = D)`: the mean of N regression trees."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hadac.surrogates.base import Arg
from hadac.surrogates.ensemble import TreeEnsemble

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestRegressor


class Forest(TreeEnsemble):
    name = "forest"
    args = {
        "n_estimators": Arg("int", 100, maximum=5000),
        "max_depth": Arg("int", 8, maximum=64),
    }
    estimator_type = "RandomForestRegressor"
    example = {"n_estimators": 4, "max_depth": 3}

    def estimator(self, args: dict[str, Any]) -> RandomForestRegressor:
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(
            n_estimators=args["n_estimators"],
            max_depth=args["max_depth"],
            random_state=0,
            n_jobs=1,
        )

    def ensemble(self, estimator: RandomForestRegressor) -> tuple[list, float, float]:
        return list(estimator.estimators_), 0.0, 1.0 / len(estimator.estimators_)

    def combine(self, values: np.ndarray, arrays: dict[str, np.ndarray]) -> np.ndarray:
        # As `ForestRegressor.predict`: the trees' predictions added one by one to zeros,
        # then divided by their count (not a pairwise sum, not a multiplication by 1/N).
        total = np.zeros(len(values))
        for column in values.T:
            total += column
        total /= values.shape[1]
        return total
