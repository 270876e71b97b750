"""Tree ensembles by shared split variables (Mišić, "Optimization of tree ensembles",
Operations Research 68(5), 2020), shared by trees, forests and boosted trees.

Each algorithm has one 0/1 per distinct cut of a param that any tree of any of its
surrogates makes, shared by all its targets and hardware: `split[k] = 1` exactly when the
param is at most the cut's `left` value, and the cuts of a param are ordered (at most a
smaller cut implies at most a larger one). So the binaries grow with the distinct cuts (at
most the domain's size minus one for a finite param), not with the leaves. Each leaf has a
weight in [0, 1]; at every split node the weights of the leaves on its left sum to at most
its split variable and those on its right to at most its complement. The weights of each
tree of a pair's surrogate sum to the pair's 0/1, so a pair not chosen predicts 0 and no
big-M links its prediction to its choice (the convex hull of the pair's disjunction).

Cuts follow scikit-learn exactly (`hadac.surrogates.thresholds`): a sample goes left when
`float32(x) <= threshold`. On a finite domain a cut is the largest
domain value that goes left and the smallest that goes right, so its variable is exactly
"x is at most that value" and no tolerance can misplace a point; two thresholds between
the same two domain values are one cut. On a continuous range a cut stops the margin short
of the threshold on both sides. A split node whose cut the domain or an ancestor's cut
already decides (every value of its box goes the same way) gets no rows: only that side's
leaves exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from hadac.domains import ParamDomain
from hadac.surrogates.thresholds import holds_a_value, split_values

if TYPE_CHECKING:
    from sklearn.tree import DecisionTreeRegressor

STRUCTURE = "splits"  # the name of this encoding in a spec and the manifest
TEMPLATE = "tree_splits.mzn.j2"


@dataclass(frozen=True, order=True)
class Cut:
    """A split of one param: left up to `left`, right from `right` (left < right)."""

    param: int  # index among the algorithm's params
    left: float
    right: float


@dataclass(frozen=True)
class Row:
    """Leaves first..last (1-based among the surrogate's leaves) lie on one side of `cut`."""

    cut: Cut
    first: int
    last: int


@dataclass
class SplitTree:
    """One tree walked over the domains: its reachable leaves' values, left subtrees
    first (so the leaves under any node are consecutive), and the rows of its split nodes."""

    values: list[float]
    left: list[Row]  # sum of the weights <= split
    right: list[Row]  # sum of the weights <= 1 - split


def walk(tree: DecisionTreeRegressor, params: tuple[ParamDomain, ...], start: int) -> SplitTree:
    """The tree's leaves numbered from `start` + 1 and its split rows over the domains."""
    t = tree.tree_
    out = SplitTree([], [], [])

    def visit(node: int, box: list[tuple[float, float]]) -> None:
        if t.children_left[node] == -1:
            out.values.append(float(t.value[node][0][0]))
            return
        feature = int(t.feature[node])
        left_high, right_low = split_values(params[feature], float(t.threshold[node]))
        low, high = box[feature]
        left_box, right_box = box.copy(), box.copy()
        left_box[feature] = (low, min(high, left_high))
        right_box[feature] = (max(low, right_low), high)
        reachable = [
            holds_a_value(params[feature], *left_box[feature]),
            holds_a_value(params[feature], *right_box[feature]),
        ]
        if not all(reachable):  # decided by the domain or an ancestor: no rows
            if reachable[0]:
                visit(int(t.children_left[node]), left_box)
            elif reachable[1]:
                visit(int(t.children_right[node]), right_box)
            return
        cut = Cut(feature, left_high, right_low)
        for child, side, child_box in (
            (int(t.children_left[node]), out.left, left_box),
            (int(t.children_right[node]), out.right, right_box),
        ):
            first = start + len(out.values) + 1
            visit(child, child_box)
            last = start + len(out.values)
            if last >= first:  # a side whose every leaf holds no value needs no row
                side.append(Row(cut, first, last))

    visit(0, [(p.low, p.high) for p in params])
    return out


def cuts(trees: list[DecisionTreeRegressor], params: tuple[ParamDomain, ...]) -> set[Cut]:
    """Every cut the trees' split nodes make over the domains."""
    found: set[Cut] = set()
    for tree in trees:
        walked = walk(tree, params, 0)
        found.update(row.cut for row in walked.left + walked.right)
    return found


@dataclass(frozen=True)
class Splits:
    """An algorithm's shared split variables: its cuts, ordered by param then value."""

    cuts: tuple[Cut, ...]

    @classmethod
    def of(cls, found: set[Cut]) -> Splits:
        return cls(tuple(sorted(found)))

    def index(self, cut: Cut) -> int:
        """The cut's variable, 1-based as in the model."""
        return self._positions[cut]

    @cached_property
    def _positions(self) -> dict[Cut, int]:
        return {c: i for i, c in enumerate(self.cuts, start=1)}


def encode(
    trees: list[DecisionTreeRegressor],
    offset: float,
    scale: float,
    params: tuple[ParamDomain, ...],
    shared: Splits,
) -> dict:
    """The template context of g = offset * run + scale * (the weighted sum of the trees'
    leaves), on the algorithm's shared split variables."""
    first, last, values = [], [], []
    left: list[Row] = []
    right: list[Row] = []
    low_bound = high_bound = 0.0
    for tree in trees:
        walked = walk(tree, params, len(values))
        low_bound += min(walked.values)
        high_bound += max(walked.values)
        first.append(len(values) + 1)
        last.append(len(values) + len(walked.values))
        values += walked.values
        left += walked.left
        right += walked.right
    bounds = sorted((offset + scale * low_bound, offset + scale * high_bound))
    data = {"FIRST": first, "LAST": last, "LEAF": values}
    for side, rows in (("LEFT", left), ("RIGHT", right)):
        data[f"{side}_FIRST"] = [r.first for r in rows]
        data[f"{side}_LAST"] = [r.last for r in rows]
        data[f"{side}_SPLIT"] = [shared.index(r.cut) for r in rows]
    return {
        "template": TEMPLATE,
        "pair_linked": True,
        "trees": len(trees),
        "leaves": len(values),
        "left_rows": len(left),
        "right_rows": len(right),
        "offset": offset,
        "scale": scale,
        "data": data,
        "bounds": bounds,
        "size": {
            # The split variables it reads, shared with the algorithm's other surrogates.
            "binaries": len({r.cut for r in left + right}),
            "weights": len(values),
            "constraints": len(trees) + len(left) + len(right) + 1,
        },
    }
