"""Leaf selection over the params' domains, the `leaves` encoding of trees, forests and
boosted trees.

Every tree contributes one binary per leaf, exactly one of which is 1, and the leaf's box
of param values, whose ends follow scikit-learn's thresholds exactly
(`hadac.surrogates.thresholds`). Leaves whose box holds no value of the domain are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hadac.domains import ParamDomain
from hadac.surrogates.thresholds import holds_a_value, split_values

if TYPE_CHECKING:
    from sklearn.tree import DecisionTreeRegressor

STRUCTURE = "leaves"  # the name of this encoding in a spec and the manifest
TEMPLATE = "tree.mzn.j2"


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
            if all(holds_a_value(p, lo, hi) for p, (lo, hi) in zip(params, box, strict=True)):
                out.append((box, float(t.value[node][0][0])))
            continue
        feature = int(t.feature[node])
        left_high, right_low = split_values(params[feature], float(t.threshold[node]))
        low, high = box[feature]
        right = box.copy()
        right[feature] = (max(low, right_low), high)
        left = box.copy()
        left[feature] = (low, min(high, left_high))
        stack.append((int(t.children_right[node]), right))
        stack.append((int(t.children_left[node]), left))
    return out


def encode(
    trees: list[DecisionTreeRegressor], offset: float, scale: float, params: tuple[ParamDomain, ...]
) -> dict:
    """The template context of y = offset + scale * (the sum of the trees' chosen leaves)."""
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
        "template": TEMPLATE,
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
