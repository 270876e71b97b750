"""Leaf selection over the params' domains, shared by trees, forests and boosted trees.

Every tree contributes one binary per leaf, exactly one of which is 1, and the leaf's box
of param values. Boxes follow scikit-learn exactly: a sample goes left when
`float32(x) <= threshold`. On a finite domain the box ends are the domain's own values on
each side of the threshold, so no value ever lands in the wrong leaf; on a continuous range
the box stops a small margin short of the threshold on both sides, which can only exclude
values, never misplace one. Leaves whose box holds no value of the domain are dropped.
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
