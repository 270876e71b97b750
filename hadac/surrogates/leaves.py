"""Leaf selection over the params' domains, shared by trees, forests and boosted trees.

Every tree contributes one binary per leaf, exactly one of which is 1, and the leaf's box
of param values. Boxes follow scikit-learn exactly: a sample goes left when
`float32(x) <= threshold`. On a finite domain the box ends are the domain's own values on
each side of the threshold, so no value ever lands in the wrong leaf; on a continuous range
the box stops a small margin short of the threshold on both sides, which can only exclude
values, never misplace one. Leaves whose box holds no value of the domain are dropped.

The numpy predictor walks the same trees the same way (`float32(x) <= threshold`, the
threshold a float64, as scikit-learn's tree code compares them) and each kind adds the
leaves' values up as its scikit-learn class does.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hadac.domains import ParamDomain
from hadac.surrogates.base import Kind

if TYPE_CHECKING:
    from sklearn.tree import DecisionTreeRegressor

MARGIN = 1e-6  # of the range's width, for continuous params


def _split(param: ParamDomain, threshold: float) -> tuple[float, float]:
    """The largest value that goes left and the smallest that goes right."""
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


def leaves(
    tree: DecisionTreeRegressor, params: tuple[ParamDomain, ...]
) -> list[tuple[list, float]]:
    """(box, value) for each reachable leaf; box is one (low, high) per param."""
    t = tree.tree_
    out = []
    stack = [(0, [(p.low, p.high) for p in params])]
    while stack:
        node, box = stack.pop()
        if t.children_left[node] == -1:
            if all(_holds_a_value(p, lo, hi) for p, (lo, hi) in zip(params, box, strict=True)):
                out.append((box, float(t.value[node][0][0])))
            continue
        feature = int(t.feature[node])
        left_high, right_low = _split(params[feature], float(t.threshold[node]))
        low, high = box[feature]
        right = box.copy()
        right[feature] = (max(low, right_low), high)
        left = box.copy()
        left[feature] = (low, min(high, left_high))
        stack.append((int(t.children_right[node]), right))
        stack.append((int(t.children_left[node]), left))
    return out


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


def _holds_a_value(param: ParamDomain, low: float, high: float) -> bool:
    if param.values is not None:
        return any(low <= v <= high for v in param.values)
    return low <= high


class LeafKind(Kind):
    """A kind whose estimator is a sum of regression trees: y = offset + scale * sum(leaf values).

    Each tree contributes one binary per reachable leaf, exactly one of which is 1, and the
    leaf's box; the kinds differ only in which trees they sum and how they scale the sum.
    """

    structure = "leaves"
    template = "tree.mzn.j2"

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

    def encode_mip(self, estimator: Any, params: tuple[ParamDomain, ...]) -> dict:
        trees, offset, scale = self.ensemble(estimator)
        first, last, values, lows, highs = [], [], [], [], []
        low_bound = high_bound = 0.0
        for tree in trees:
            found = leaves(tree, params)
            tree_values = [value for _, value in found]
            low_bound += min(tree_values)
            high_bound += max(tree_values)
            first.append(len(values) + 1)
            last.append(len(values) + len(found))
            for box, value in found:
                values.append(value)
                lows.append([lo for lo, _ in box])
                highs.append([hi for _, hi in box])
        bounds = sorted((offset + scale * low_bound, offset + scale * high_bound))
        return {
            "template": self.template,
            "trees": len(trees),
            "leaves": len(values),
            "offset": offset,
            "scale": scale,
            "data": {"FIRST": first, "LAST": last, "LEAF": values, "LOW": lows, "HIGH": highs},
            "bounds": bounds,
            "size": {
                "binaries": len(values),
                "constraints": len(trees) * (1 + 2 * len(params)) + 1,
            },
        }
