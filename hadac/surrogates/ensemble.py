"""What trees, forests and boosted trees share: a sum of regression trees, its two MIP
encodings and its numpy predictor.

The prediction is offset + scale * (the sum of the leaf values the trees reach); the kinds
differ only in which trees they sum and how they scale the sum. The MIP model encodes the
trees by shared split variables (`hadac.surrogates.splits`, the default: measured faster,
see docs/performance.md) or, on request (`encoding = leaves`), by leaf selection
(`hadac.surrogates.leaves`).

The numpy predictor walks the same trees the way scikit-learn does (`float32(x) <=
threshold`, the threshold a float64, as scikit-learn's tree code compares them) and each
kind adds the leaves' values up as its scikit-learn class does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hadac.domains import ParamDomain
from hadac.surrogates import leaves, splits
from hadac.surrogates.base import Kind

if TYPE_CHECKING:
    from sklearn.tree import DecisionTreeRegressor


# Rows of a prediction walked at once, times the trees: bounds the memory of `leaf_values`.
_CELLS = 1 << 20


def tree_arrays(trees: list[DecisionTreeRegressor]) -> dict[str, np.ndarray]:
    """The trees' nodes in one set of arrays: tree t starts at node `root[t]`, and `left`
    and `right` hold the children's indices into these arrays (-1 at a leaf)."""
    roots, left, right, feature, threshold, value = [], [], [], [], [], []
    start = 0
    for tree in trees:
        t = tree.tree_
        leaf = t.children_left == -1
        roots.append(start)
        left.append(np.where(leaf, -1, t.children_left + start))
        right.append(np.where(leaf, -1, t.children_right + start))
        feature.append(np.where(leaf, 0, t.feature))
        threshold.append(t.threshold)
        value.append(t.value[:, 0, 0])
        start += t.node_count
    return {
        "root": np.array(roots, dtype=np.int64),
        "left": np.concatenate(left).astype(np.int64),
        "right": np.concatenate(right).astype(np.int64),
        "feature": np.concatenate(feature).astype(np.int64),
        "threshold": np.concatenate(threshold).astype(np.float64),
        "value": np.concatenate(value).astype(np.float64),
    }


def leaf_values(arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The value of the leaf each row of `x` reaches in each tree: shape (rows, trees)."""
    roots, left, right = arrays["root"], arrays["left"], arrays["right"]
    feature, threshold, value = arrays["feature"], arrays["threshold"], arrays["value"]
    x32 = np.asarray(x, dtype=np.float32)  # as scikit-learn converts what a tree is given
    out = np.empty((len(x32), len(roots)))
    step = max(1, _CELLS // max(1, len(roots)))
    for start in range(0, len(x32), step):
        chunk = x32[start : start + step]
        rows = np.arange(len(chunk))[:, None]
        node = np.repeat(roots[None, :], len(chunk), axis=0)
        inner = left[node] >= 0
        while inner.any():
            goes_left = chunk[rows, feature[node]] <= threshold[node]
            node = np.where(inner, np.where(goes_left, left[node], right[node]), node)
            inner = left[node] >= 0
        out[start : start + step] = value[node]
    return out


class TreeEnsemble(Kind):
    """A kind whose estimator is a sum of regression trees: offset + scale * sum(leaves)."""

    structure = splits.STRUCTURE
    alternatives = (leaves.STRUCTURE,)
    template = splits.TEMPLATE

    def ensemble(self, estimator: Any) -> tuple[list[DecisionTreeRegressor], float, float]:
        """The trees of `estimator`, the offset and the scale of their sum."""
        raise NotImplementedError

    def combination(self, estimator: Any) -> dict[str, np.ndarray] | None:
        """What `combine` needs besides the leaves' values; None when the estimator holds
        something it does not repeat."""
        return {}

    def combine(self, values: np.ndarray, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """The prediction from each row's leaf values (rows, trees), added up in the order
        and with the operations of the kind's scikit-learn class."""
        raise NotImplementedError

    def arrays(self, estimator: Any) -> dict[str, np.ndarray] | None:
        if not self.owns(estimator):
            return None
        trees = self.ensemble(estimator)[0]
        extra = self.combination(estimator)
        if extra is None or any(t.tree_.n_outputs != 1 for t in trees):
            return None
        return tree_arrays(trees) | extra

    def predict(self, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        return self.combine(leaf_values(arrays, x), arrays)

    def cuts(
        self, estimator: Any, params: tuple[ParamDomain, ...], structure: str
    ) -> set[splits.Cut]:
        if structure != splits.STRUCTURE:
            return set()
        return splits.cuts(self.ensemble(estimator)[0], params)

    def encode_mip(
        self,
        estimator: Any,
        params: tuple[ParamDomain, ...],
        structure: str,
        shared: splits.Splits,
    ) -> dict:
        trees, offset, scale = self.ensemble(estimator)
        if structure == leaves.STRUCTURE:
            return leaves.encode(trees, offset, scale, params)
        return splits.encode(trees, offset, scale, params, shared)
