"""`tree(max_depth = D)`: one regression tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hadac.surrogates.base import Arg
from hadac.surrogates.ensemble import TreeEnsemble

if TYPE_CHECKING:
    from sklearn.tree import DecisionTreeRegressor


class Tree(TreeEnsemble):
    name = "tree"
    args = {"max_depth": Arg("int", 10, maximum=64)}
    estimator_type = "DecisionTreeRegressor"
    example = {"max_depth": 4}

    def estimator(self, args: dict[str, Any]) -> DecisionTreeRegressor:
        from sklearn.tree import DecisionTreeRegressor

        return DecisionTreeRegressor(max_depth=args["max_depth"], random_state=0)

    def ensemble(self, estimator: DecisionTreeRegressor) -> tuple[list, float, float]:
        return [estimator], 0.0, 1.0

    def combine(self, values: np.ndarray, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return values[:, 0].copy()  # `predict` is the value of the leaf reached
