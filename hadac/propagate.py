"""A pair's param domains narrowed by its trees' bounds, before a MIP solver runs.

The MIP relaxation of deep tree ensembles is weak: each tree of a fractional solution takes
the best of the leaves on both sides of a split, and a MIP solver spends minutes closing
that gap by branching. Bounds reasoning closes most of it at once. With the objective of a
configuration already known (`hadac.localsearch`) as a cut, every position of a param is
tried alone: on the leaves it reaches, given the other params' positions still left, each
tree contributes at least its least share and at most its greatest to every quantity, and a
position whose sums cannot meet a bound, or cannot beat the cut, goes. Removing positions
removes leaves, which may remove positions of other params; this runs until nothing more
goes. A pair left with no position is proven unable to beat the cut without a solve; the
others are solved over the values left.

It reads the CP model's data (`hadac.encode.cp`), as the compile saved it for this
(`relaxation_arrays`): its leaves' boxes of positions and their shares in fixed point, each
rounded so that the sums bound every configuration's true value.
So nothing that can meet the bounds and beat the cut is ever removed, whatever the float
rounding of `predict`. Networks are not read: a build whose CP model has one is not
narrowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hadac import cpsolve
from hadac.builddir import BuildDir
from hadac.localsearch import Configuration
from hadac.query import ParamRange, Query

# The CP model's arrays this reads (`relaxation_arrays`).
_NAMES = (
    "TREE_PAIRS",
    "TREE_LEAVES",
    "BOX_TREE",
    "BOX_PARAM",
    "BOX_START",
    "BOX_LOW",
    "BOX_HIGH",
    "TERM_QUANTITY",
    "TERM_TREE",
    "TERM_START",
    "TERM_LOW",
    "CONST_LOW",
    "SPREAD",
)


@dataclass(frozen=True)
class Bounds:
    """What a pair's fixed-point sums must meet: per quantity, `low <= upper` and
    `high >= lower` (None: no bound)."""

    upper: tuple[int | None, ...]
    lower: tuple[int | None, ...]


@dataclass
class _Pair:
    """One pair's trees, their leaves side by side: each leaf's tree, its box (a first and
    last position per param of the algorithm) and its share of every quantity."""

    tree: np.ndarray  # each leaf's tree (from 0): a tree's leaves are side by side
    trees: int  # how many
    first: np.ndarray  # (params, leaves)
    last: np.ndarray
    # per quantity, the leaves of the trees with a share in it, each leaf's term (from 0:
    # a tree's share, its leaves side by side) and its share (the other trees add 0)
    terms: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    constant: np.ndarray  # per quantity, the pair's constant (rounded down)
    spread: np.ndarray  # per quantity, how far above `low` the true value may lie
    sizes: tuple[int, ...]  # each param's positions


class Relaxation:
    """The CP model's fixed-point sums of a build, read once, pair by pair."""

    def __init__(self, build: BuildDir):
        cp = build.manifest.model.cp
        assert cp is not None and not cp.networks
        self.build = build
        with np.load(build.directory / cp.relaxation, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        # the ints as int64 again, so that no sum of them overflows
        self.data = {n: a if a.dtype == bool else a.astype(np.int64) for n, a in arrays.items()}
        self.pairs: dict[int, _Pair] = {}

    def narrowed(
        self, pair: int, bounds: Bounds, start: list[np.ndarray] | None = None
    ) -> list[np.ndarray] | None:
        """Per param of the pair's algorithm, which positions (from 0) are left; None when
        no configuration of the pair can meet `bounds`. `start` (every position by default)
        must hold every position that `bounds` leave, as those of looser bounds do."""
        p = self._pair(pair)
        quantities = [
            (q, upper, lower)
            for q, (upper, lower) in enumerate(zip(bounds.upper, bounds.lower, strict=True))
            if upper is not None or lower is not None
        ]
        if not all(_may_meet(p, q, upper, lower) for q, upper, lower in quantities):
            return None  # whatever the params: each tree's least or greatest share is too far
        if start is None:
            left = [np.ones(size, dtype=bool) for size in p.sizes]
        else:
            left = [mask.copy() for mask in start]
        changed = True
        while changed:
            changed = False
            for k in range(len(p.sizes)):
                # the leaves the other params' positions left reach: only they can be taken
                reached = _reached(p, left, skip=k)
                columns = np.flatnonzero(reached)
                trees = _starts(p.tree[columns])
                if trees.size < p.trees:
                    return None  # a tree none of whose leaves any configuration reaches
                positions = np.flatnonzero(left[k]) + 1
                holds = (p.first[k][columns] <= positions[:, None]) & (
                    positions[:, None] <= p.last[k][columns]
                )
                keep = np.logical_or.reduceat(holds, trees, axis=1).all(axis=1)
                rank = np.cumsum(reached) - 1  # a reached leaf's column in `holds`
                for q, upper, lower in quantities:
                    leaves, terms, shares = p.terms[q]
                    kept = reached[leaves]
                    held = holds[:, rank[leaves[kept]]]
                    starts, shares = _starts(terms[kept]), shares[kept]
                    if upper is not None:
                        least = np.where(held, shares[None, :], np.inf)
                        total = np.minimum.reduceat(least, starts, axis=1).sum(axis=1)
                        keep &= p.constant[q] + total <= upper
                    if lower is not None:
                        most = np.where(held, shares[None, :], -np.inf)
                        total = np.maximum.reduceat(most, starts, axis=1).sum(axis=1)
                        keep &= p.constant[q] + p.spread[q] + total >= lower
                if not keep.all():
                    left[k][positions[~keep] - 1] = False
                    changed = True
                    if not left[k].any():
                        return None
        return left

    def _pair(self, pair: int) -> _Pair:
        if pair not in self.pairs:
            self.pairs[pair] = self._read_pair(pair)
        return self.pairs[pair]

    def _read_pair(self, pair: int) -> _Pair:
        d = self.data
        manifest = self.build.manifest
        algorithm = manifest.pairs[pair - 1].algorithm
        domains = manifest.model.cp.domains
        first_param = 1  # the CP model's index of the algorithm's first param
        for name, values in domains.items():
            if name == algorithm:
                break
            first_param += len(values)
        sizes = tuple(len(v) for v in domains[algorithm])
        trees = [int(t) + 1 for t in np.flatnonzero(d["TREE_PAIRS"][:, pair - 1])]
        counts = np.array([d["TREE_LEAVES"][t - 1] for t in trees], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        offset = {t: int(s) for t, s in zip(trees, starts, strict=True)}
        n = int(counts.sum())
        first = np.ones((len(sizes), n), dtype=np.int64)
        last = np.array(sizes, dtype=np.int64)[:, None].repeat(n, axis=1)
        for r, (tree, param) in enumerate(zip(d["BOX_TREE"], d["BOX_PARAM"], strict=True)):
            if tree in offset:
                k, at, count = param - first_param, offset[tree], d["TREE_LEAVES"][tree - 1]
                start = d["BOX_START"][r]  # leaf 0's, from 1: leaf j's is start + j - 1
                first[k, at : at + count] = d["BOX_LOW"][start : start + count]
                last[k, at : at + count] = d["BOX_HIGH"][start : start + count]
        terms = []
        for quantity in range(1, len(d["CONST_LOW"]) + 1):  # a row per quantity
            leaves, shares = [], []
            for r, (q, tree) in enumerate(zip(d["TERM_QUANTITY"], d["TERM_TREE"], strict=True)):
                if q == quantity and tree in offset:
                    at, count, start = offset[tree], d["TREE_LEAVES"][tree - 1], d["TERM_START"][r]
                    leaves.append(np.arange(at, at + count))
                    shares.append(d["TERM_LOW"][start : start + count])
            terms.append(
                (
                    np.concatenate(leaves) if leaves else np.zeros(0, dtype=np.int64),
                    np.repeat(np.arange(len(leaves)), [len(x) for x in leaves]),
                    np.concatenate(shares).astype(float) if shares else np.zeros(0),
                )
            )
        return _Pair(
            np.repeat(np.arange(len(trees)), counts),
            len(trees),
            first,
            last,
            tuple(terms),
            d["CONST_LOW"][:, pair - 1].astype(float),
            d["SPREAD"][:, pair - 1].astype(float),
            sizes,
        )


def narrows(build: BuildDir, query: Query) -> bool:
    """Whether `query` on `build` can be narrowed: the build has a CP model without
    networks and the query one objective."""
    if build.enumerated or query.objective is None or query.objective.then is not None:
        return False
    cp = build.manifest.model.cp
    return cp is not None and not cp.networks


class Narrowing:
    """A query's pairs, each narrowed to the param values that may beat or tie a bound on
    its objective (`left`), and the ranges a MIP solve of the pair takes from them."""

    def __init__(self, relaxation: Relaxation, query: Query):
        build = relaxation.build
        cp = build.manifest.model.cp
        self.relaxation, self.query = relaxation, query
        self.data = cpsolve.query_data(build, query)
        self.objective = [q.name for q in cp.quantities].index(query.objective.quantity)
        self.scale = cp.quantities[self.objective].scale
        self.known: dict[tuple[int, float], list[np.ndarray] | None] = {}

    @classmethod
    def of(cls, build: BuildDir, query: Query) -> Narrowing | None:
        """The narrowing of `query` on `build`, None where `narrows` says no."""
        return cls(Relaxation(build), query) if narrows(build, query) else None

    def left(self, pair: int, bound: float) -> list[np.ndarray] | None:
        """Per param of `pair`, which positions (from 0) configurations that meet the query
        and beat or tie `bound` may take; None when no configuration of the pair can. What
        a looser bound left is where a tighter one starts: it can only leave less."""
        if (pair, bound) not in self.known:
            minimize = self.query.objective.sense == "minimize"
            looser = [
                b for p, b in self.known if p == pair and (b >= bound if minimize else b <= bound)
            ]
            if not looser:
                self.known[(pair, bound)] = self._left(pair, bound, None)
            else:
                start = self.known[(pair, min(looser) if minimize else max(looser))]
                self.known[(pair, bound)] = (
                    None if start is None else self._left(pair, bound, start)
                )
        return self.known[(pair, bound)]

    def _left(
        self, pair: int, bound: float, start: list[np.ndarray] | None
    ) -> list[np.ndarray] | None:
        d = self.data
        upper = [
            row[pair - 1] if use else None
            for use, row in zip(d["USE_UPPER"], d["UPPER"], strict=True)
        ]
        lower = [
            row[pair - 1] if use else None
            for use, row in zip(d["USE_LOWER"], d["LOWER"], strict=True)
        ]
        k = self.objective
        if self.query.objective.sense == "minimize":
            # the relaxed objective, `low`, at most this (a unit looser, for the product's rounding)
            cut = math.floor(bound * self.scale) + 1
            upper[k] = cut if upper[k] is None else min(upper[k], cut)
        else:
            cut = math.ceil(bound * self.scale) - 1  # `high` at least this
            lower[k] = cut if lower[k] is None else max(lower[k], cut)
        return self.relaxation.narrowed(pair, Bounds(tuple(upper), tuple(lower)), start)

    def ranges(self, pair: int, left: list[np.ndarray]) -> tuple[ParamRange, ...]:
        """The range of each param of `pair` from its first to its last position `left`,
        for those narrower than their domain."""
        manifest = self.relaxation.build.manifest
        algorithm = manifest.pairs[pair - 1].algorithm
        out = []
        domains = manifest.model.cp.domains[algorithm]
        for p, values, mask in zip(manifest.params[algorithm], domains, left, strict=True):
            if not mask.all():
                at = np.flatnonzero(mask)
                out.append(ParamRange(algorithm, p.name, values[at[0]], values[at[-1]]))
        return tuple(out)


def configurations(pair: int, left: list[np.ndarray], limit: int) -> list[Configuration]:
    """Every configuration of `pair` with its params at the positions `left` (from 1, as
    `hadac.localsearch` numbers them); none when there are more than `limit`."""
    if math.prod(int(mask.sum()) for mask in left) > limit:
        return []
    if not left:
        return [(pair, ())]  # an algorithm without params: its one configuration
    axes = [np.flatnonzero(mask) + 1 for mask in left]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(axes))
    return [(pair, tuple(int(k) for k in row)) for row in grid]


def _may_meet(p: _Pair, q: int, upper: int | None, lower: int | None) -> bool:
    """Whether quantity `q` of the pair may meet its bounds with every leaf reachable."""
    _, terms, shares = p.terms[q]
    starts = _starts(terms)
    least = p.constant[q] + np.minimum.reduceat(shares, starts).sum()
    most = p.constant[q] + p.spread[q] + np.maximum.reduceat(shares, starts).sum()
    return (upper is None or least <= upper) and (lower is None or most >= lower)


def _starts(groups: np.ndarray) -> np.ndarray:
    """Where each run of equal values of `groups` begins: the leaves of a tree (or a term)
    side by side, for `reduceat` (none when there are none)."""
    if not groups.size:
        return groups
    return np.flatnonzero(np.concatenate(([True], groups[1:] != groups[:-1])))


def _reached(p: _Pair, left: list[np.ndarray], skip: int) -> np.ndarray:
    """Which leaves hold a position left of every param but `skip`."""
    out = np.ones(p.first.shape[1], dtype=bool)
    for k, mask in enumerate(left):
        if k == skip:
            continue
        counts = np.concatenate(([0], np.cumsum(mask)))
        out &= counts[p.last[k]] > counts[p.first[k] - 1]
    return out


def relaxation_arrays(data: dict[str, object]) -> dict[str, np.ndarray]:
    """The arrays `Relaxation` reads of the CP model's data (`hadac.encode.cp`), saved
    beside it: parsing them back out of its MiniZinc data took longer than the narrowing.
    The trees' sets of pairs become a table, a tree's row true at its pairs."""
    out = {name: _compact(data[name]) for name in _NAMES if name != "TREE_PAIRS"}
    pairs = np.zeros((len(data["TREE_PAIRS"]), int(data["N_PAIRS"])), dtype=bool)
    for t, among in enumerate(data["TREE_PAIRS"]):
        pairs[t, [p - 1 for p in among]] = True
    return out | {"TREE_PAIRS": pairs}


def _compact(values: object) -> np.ndarray:
    """Ints in the narrowest of int16, int32 and int64 that holds them all: positions take
    two bytes, and the file is read (and its checksum checked) at every solve."""
    array = np.asarray(values, dtype=np.int64)
    for dtype in (np.int16, np.int32):
        info = np.iinfo(dtype)
        if not array.size or (info.min <= array.min() and array.max() <= info.max):
            return array.astype(dtype)
    return array
