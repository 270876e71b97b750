"""`boosted(n_estimators = N, max_depth = D, learning_rate = R)`: gradient-boosted trees.

The prediction is the initial constant plus R times the sum of the N trees' leaf values, so
it encodes like a forest, with that offset and scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hadac.surrogates.base import Arg
from hadac.surrogates.ensemble import TreeEnsemble

if TYPE_CHECKING:
    from sklearn.ensemble import GradientBoostingRegressor


class Boosted(TreeEnsemble):
    name = "boosted"
    args = {
        "n_estimators": Arg("int", 100, maximum=5000),
        "max_depth": Arg("int", 3, maximum=64),
        "learning_rate": Arg("float", 0.1, minimum=0.0, maximum=1.0, above=True),
    }
    estimator_type = "GradientBoostingRegressor"
    example = {"n_estimators": 6, "max_depth": 2, "learning_rate": 0.1}

    def estimator(self, args: dict[str, Any]) -> GradientBoostingRegressor:
        from sklearn.ensemble import GradientBoostingRegressor

        return GradientBoostingRegressor(
            n_estimators=args["n_estimators"],
            max_depth=args["max_depth"],
            learning_rate=args["learning_rate"],
            random_state=0,
        )

    def ensemble(self, estimator: GradientBoostingRegressor) -> tuple[list, float, float]:
        trees = [row[0] for row in estimator.estimators_]
        return trees, float(estimator.init_.constant_[0][0]), float(estimator.learning_rate)

    def combination(self, estimator: GradientBoostingRegressor) -> dict[str, np.ndarray] | None:
        init = getattr(estimator.init_, "constant_", None)
        if type(estimator.init_).__name__ != "DummyRegressor" or np.size(init) != 1:
            return None  # another initial estimator than the mean: left to scikit-learn
        return {
            "init": np.asarray(init, dtype=np.float64).reshape(()),
            "learning_rate": np.asarray(estimator.learning_rate, dtype=np.float64),
        }

    def combine(self, values: np.ndarray, arrays: dict[str, np.ndarray]) -> np.ndarray:
        # As `predict_stages`: the initial constant, then learning_rate * the leaf value of
        # each stage added in turn.
        total = np.full(len(values), arrays["init"])
        for column in values.T:
            total += arrays["learning_rate"] * column
        return total
