"""The CP model (Gecode, Chuffed) of a MIP build whose every param is finite.

Each param is the position of its value in its domain. Each tree of a pair's surrogate
picks one leaf by `element` constraints over its leaves' boxes of positions (leaf 0, a box
of every position, for a tree of a pair not chosen); a table is one tree of one-point
leaves. A surrogate that several pairs share (fitted on hardware-independent data) has its
trees once, for all of them, when it adds the same to every quantity on each. Each quantity
is summed from the leaves in fixed point (its own scale, so that no sum leaves 32-bit
integers), every leaf's share rounded down into `low`, and `high` is `low` plus the most
the rounding can have taken off, so that `low <= scale * value <= high` on every
configuration. A ReLU network's neurons are integer sums too (`hadac.encode.cpnet`), and
it adds its output to the quantities by heads in their fixed point. Bounds and the
objective are posted on those sums, which makes the model a relaxation; `hadac.cpsolve`
makes its answer exact with `predict`.

A build gets this model when every surrogate is a tree ensemble, a ReLU network or a table,
every param is finite and no algorithm reads instance inputs; `CpOffer.reason` says
otherwise why not.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from hadac import affine, onehot, surrogates
from hadac.encode import mip, names
from hadac.encode.cpnet import Network
from hadac.encode.fixedpoint import BIG, LIMIT, SUM_LIMIT
from hadac.encode.quantities import Definition
from hadac.encode.render import render_cp
from hadac.manifest import CpQuantity
from hadac.problem import AlgorithmInfo, Problem
from hadac.surrogates.base import Kind
from hadac.surrogates.ensemble import TreeEnsemble
from hadac.surrogates.leaves import leaves
from hadac.surrogates.mlp import MLP


@dataclass
class Tree:
    """One tree over positions: per leaf, its box (a (low, high) position per param of
    the algorithm, from 1) and its value."""

    pairs: tuple[int, ...]  # from 1: those whose surrogate of `target` has this tree
    target: str
    boxes: list[list[tuple[int, int]]]
    values: list[float]
    params: list[int]  # global indices (from 1) of the algorithm's params


@dataclass
class CpModel:
    """The rendered CP model, its solve items, its fixed data and its quantities' scales."""

    model: str
    best: str  # the solve item that minimises the relaxed objective
    candidates: str  # the solve item that lists every configuration under a cut
    data: dict[str, object]
    quantities: tuple[CpQuantity, ...]
    trees: int
    domains: dict[str, tuple[tuple[float, ...], ...]]  # per algorithm, each param's values
    networks: int = 0


@dataclass
class CpOffer:
    """A build's CP model, or why CP solvers cannot take the build."""

    model: CpModel | None = None
    reason: str | None = None


def reason_against(problem: Problem, encodings: dict) -> str | None:
    """Why this build can have no CP model, or None when it can."""
    for algorithm in problem.algorithms:
        if algorithm.inputs:
            return f"'{algorithm.name}' reads instance inputs"
        for p in algorithm.params:
            if not p.finite:
                return f"param {p.name} of '{algorithm.name}' is a continuous range"
            if p.categorical:
                return f"param {p.name} of '{algorithm.name}' is a str param"
    for (algorithm, target), encoding in sorted(encodings.items()):
        kind = problem.target(target).kind
        if encoding != "table" and not _encodable(surrogates.kind(kind)):
            return (
                f"'{target}' of '{algorithm}' is a {kind} surrogate"
                " (only trees, tables and ReLU networks)"
            )
    return None


def _encodable(kind: Kind) -> bool:
    """Whether the CP model encodes the structure of this kind's estimators."""
    return isinstance(kind, TreeEnsemble) or kind.name == MLP.name


def _positions(values: tuple[float, ...], low: float, high: float) -> tuple[int, int]:
    """The first and last position (from 1) of the domain's values within [low, high]."""
    return bisect.bisect_left(values, low) + 1, bisect.bisect_right(values, high)


def _trees_and_networks(
    problem: Problem, fitted: dict, encodings: dict, first_param: dict, forms: list[list]
) -> tuple[list[Tree], list[Network], dict[tuple[int, str], float]]:
    """Every tree of every surrogate, pair-major, as boxes of positions, every network, and
    the constant each (pair, target) adds to its trees' sum or its network's output (an
    ensemble's offset, a network's output bias, 0 for a table).

    Pairs that share a fitted surrogate share its trees when its target weighs the same in
    every quantity on each (`forms`: per quantity, each pair's affine form)."""
    out, networks, offsets, keys, groups = [], [], {}, {}, {}
    for index, pair in enumerate(problem.pairs, start=1):
        for target in problem.targets:
            weights = tuple(f[index - 1].coefs.get(target.name, 0.0) for f in forms)
            fit = fitted[(pair.algorithm, pair.hardware, target.name)]
            key = keys[(index, target.name)] = (id(fit), target.name, weights)
            groups.setdefault(key, []).append(index)
    for index, pair in enumerate(problem.pairs, start=1):
        algorithm = problem.algorithm(pair.algorithm)
        first = first_param[algorithm.name]
        params = list(range(first, first + len(algorithm.params)))
        for target in problem.targets:
            pairs = tuple(groups[keys[(index, target.name)]])
            estimator = fitted[(pair.algorithm, pair.hardware, target.name)].estimator
            if encodings[(algorithm.name, target.name)] == "table":
                offsets[(index, target.name)] = 0.0
                if pairs[0] == index:
                    out.append(_table(algorithm, estimator, pairs, target.name, params))
                continue
            kind = surrogates.kind(target.kind)
            if kind.name == MLP.name:
                if pairs[0] == index:
                    domains = [tuple(p.values) for p in algorithm.params]
                    arrays = kind.arrays(onehot.unwrap(estimator)[0])
                    networks.append(Network.of(arrays, pairs, target.name, params, domains))
                # a shared network is the first pair's of `pairs`, already built
                offsets[(index, target.name)] = next(
                    n.offset for n in networks if n.target == target.name and index in n.pairs
                )
                continue
            trees, offset, scale = kind.ensemble(onehot.unwrap(estimator)[0])
            offsets[(index, target.name)] = offset
            if pairs[0] != index:
                continue  # its trees are the first pair's of `pairs`
            for tree in trees:
                found = leaves(tree, algorithm.params)
                boxes = [
                    [
                        _positions(p.values, *side)
                        for p, side in zip(algorithm.params, box, strict=True)
                    ]
                    for box, _ in found
                ]
                out.append(Tree(pairs, target.name, boxes, [scale * v for _, v in found], params))
    return out, networks, offsets


def _table(
    algorithm: AlgorithmInfo, estimator, pairs: tuple[int, ...], target: str, params: list[int]
) -> Tree:
    grid = algorithm.points()
    values = [float(v) for v in np.asarray(estimator.predict(onehot.raw(grid, algorithm.labels)))]
    boxes = []
    for row in grid:
        box = []
        for p, value in zip(algorithm.params, row, strict=True):
            position = _positions(p.values, value, value)[0]
            box.append((position, position))
        boxes.append(box)
    return Tree(pairs, target, boxes, values, params)


def encode(
    problem: Problem,
    fitted: dict,
    encodings: dict,
    wanted: list[Definition],
    quantities: list,
    data_file: str,
) -> CpOffer:
    """The CP model of a MIP build, or the reason it has none. `quantities` are the MIP
    model's context entries (in manifest order), `wanted` their definitions."""
    reason = reason_against(problem, encodings)
    if reason is not None:
        return CpOffer(reason=reason)
    first_param, params = {}, []
    for algorithm in problem.algorithms:
        first_param[algorithm.name] = len(params) + 1
        params += [
            {
                "algorithm": algorithm.name,
                "name": p.name,
                "var": names.position_var(algorithm.name, p.name),
                "size": len(p.values),
                "domain": mip.domain_text(p),
                "line": p.line,
            }
            for p in algorithm.params
        ]
    targets = {t.name for t in problem.targets}
    expressions = {d.name: d.expr for d in wanted}
    forms = [
        [
            affine.form(expressions[q["name"]], problem.hardware_info(p.hardware).numbers, targets)
            for p in problem.pairs
        ]
        for q in quantities
    ]
    trees, networks, offsets = _trees_and_networks(problem, fitted, encodings, first_param, forms)
    data: dict[str, object] = {
        "N_PAIRS": len(problem.pairs),
        "N_PARAMS": len(params),
        "N_TREES": len(trees),
        "TREE_PAIRS": [set(t.pairs) for t in trees],
        "TREE_LEAVES": [len(t.values) for t in trees],
    }
    data |= _boxes(trees, [p["size"] for p in params])
    records, more = _sums(trees, networks, offsets, forms, [q["name"] for q in quantities])
    data |= more
    for number, network in enumerate(networks, start=1):
        for i, table in enumerate(network.first_layer(), start=1):
            data[f"NET{number}_IN{i}_LOW"] = table["low"]
            data[f"NET{number}_IN{i}_HIGH"] = table["high"]
    pairs = [
        {"index": i, "algorithm": p.algorithm, "hardware": p.hardware, "line": p.line}
        for i, p in enumerate(problem.pairs, start=1)
    ]
    described = [
        q | {"index": i, "scale": r.scale}
        for i, (q, r) in enumerate(zip(quantities, records, strict=True), start=1)
    ]
    model, best, candidates = render_cp(
        problem,
        data_file,
        pairs=pairs,
        params=params,
        quantities=described,
        big=BIG,
        sum_limit=SUM_LIMIT,
        networks=[_network_context(n) for n in networks],
        network_params=sorted({k for n in networks for k in n.params}),
        network_quantities=sorted({h["quantity"] for n in networks for h in n.heads}),
        net_sums=_net_sums(networks, len(quantities), len(problem.pairs)),
    )
    domains = {a.name: tuple(tuple(p.values) for p in a.params) for a in problem.algorithms}
    return CpOffer(
        CpModel(
            model,
            best,
            candidates,
            data,
            tuple(records),
            len(trees),
            domains,
            len(networks),
        )
    )


class _Rows:
    """Rows of one kind of lookup (`BOX` or `TERM`): each row's two keys, and where its
    leaves' values (leaf 0 first) start in the flat list of each of its columns."""

    def __init__(self, kind: str, count: str, keys: tuple[str, str], columns: tuple[str, ...]):
        self.kind, self.count, self.keys = kind, count, keys
        self.rows: list[tuple[int, ...]] = []
        self.columns: dict[str, list[int]] = {c: [] for c in columns}

    def add(self, keys: tuple[int, int], *values: tuple[int, ...]) -> None:
        self.rows.append((*keys, len(next(iter(self.columns.values()))) + 1))
        for column, more in zip(self.columns.values(), values, strict=True):
            column += more

    def data(self) -> dict[str, object]:
        """The model's arrays: `N_BOXES`, `BOX_TREE`, `BOX_PARAM`, `BOX_START`, `BOX_LOW`,
        `BOX_HIGH` (or the TERM ones)."""
        keys = [*self.keys, "START"]
        out: dict[str, object] = {self.count: len(self.rows)}
        out |= {f"{self.kind}_{c}": [r[i] for r in self.rows] for i, c in enumerate(keys)}
        return out | {f"{self.kind}_{c}": values for c, values in self.columns.items()}


def _boxes(trees: list[Tree], sizes: list[int]) -> dict[str, object]:
    """One row per (tree, param) whose leaves do not all hold every position: the lowest
    and highest position of each leaf, leaf 0 (a pair not chosen) holding them all."""
    rows = _Rows("BOX", "N_BOXES", ("TREE", "PARAM"), ("LOW", "HIGH"))
    for number, tree in enumerate(trees, start=1):
        for j, param in enumerate(tree.params):
            size = sizes[param - 1]
            if not all(box[j] == (1, size) for box in tree.boxes):
                lows, highs = zip(*(box[j] for box in tree.boxes), strict=True)
                rows.add((number, param), (1, *lows), (size, *highs))
    return rows.data()


def _network_context(network: Network) -> dict:
    """What the template writes of a network: its sizes, first layer's params, hidden
    layers and heads."""
    sizes = [len(network.params)] + [w.shape[1] for w in network.weights[:-1]]
    return {
        "pairs": network.pairs,
        "target": network.target,
        "sizes": sizes,
        "scale": network.scale,
        "params": network.params,
        "positions": [len(d) for d in network.domains],
        "hidden": network.hidden_layers(),
        "heads": network.heads,
    }


def _net_sums(networks: list[Network], quantities: int, pairs: int) -> list[dict]:
    """Per quantity, per pair, the names of the heads that add to it (both ends)."""
    out = [
        {"low": [[] for _ in range(pairs)], "high": [[] for _ in range(pairs)]}
        for _ in range(quantities)
    ]
    for number, network in enumerate(networks, start=1):
        for head in network.heads:
            name = f"net{number}_head_{head['quantity']}_{head['pair']}"
            q, p = head["quantity"] - 1, head["pair"] - 1
            out[q]["low"][p].append(f"{name}_low - 1")
            out[q]["high"][p].append(f"{name}_high + 1")
    return out


def _sums(
    trees: list[Tree],
    networks: list[Network],
    offsets: dict,
    forms: list[list],
    quantities: list[str],
) -> tuple[list[CpQuantity], dict[str, object]]:
    """Each quantity's fixed-point sums: per pair a constant, per tree that adds to it each
    leaf's share rounded down (TERM_LOW), leaf 0 adding nothing, and per pair the most that
    rounding the constant and the shares up would add (SPREAD).

    The constant is rounded one unit further each way, so that the float rounding of
    `predict` and of the products here can never put a value outside its sums.
    """
    records, const_low, spreads = [], [], []
    rows = _Rows("TERM", "N_TERMS", ("QUANTITY", "TREE"), ("LOW",))
    for qi, (name, pair_forms) in enumerate(zip(quantities, forms, strict=True), start=1):
        constants = [
            f.const + sum(c * offsets[(i, t)] for t, c in f.coefs.items())
            for i, f in enumerate(pair_forms, start=1)
        ]
        shares = [
            (number, tree, [coef * v for v in tree.values])
            for number, tree in enumerate(trees, start=1)
            if (coef := pair_forms[tree.pairs[0] - 1].coefs.get(tree.target, 0.0)) != 0.0
        ]
        outputs = [
            (network, pair, coef, network.output_range())
            for network in networks
            for pair in network.pairs
            if (coef := pair_forms[pair - 1].coefs.get(network.target, 0.0)) != 0.0
        ]
        magnitude = sum(max(map(abs, s)) for _, _, s in shares) + max(map(abs, constants))
        magnitude += sum(abs(coef) * max(map(abs, ends)) for _, _, coef, ends in outputs)
        scale = LIMIT / magnitude if magnitude > 0 else 1.0
        lows = [math.floor(c * scale) - 1 for c in constants]
        spread = [math.ceil(c * scale) + 1 - low for c, low in zip(constants, lows, strict=True)]
        best, worst = list(lows), list(lows)
        for number, tree, share in shares:
            lo = [math.floor(v * scale) for v in share]
            rows.add((qi, number), (0, *lo))
            up = max(math.ceil(v * scale) - down for v, down in zip(share, lo, strict=True))
            for pair in tree.pairs:
                spread[pair - 1] += up
                best[pair - 1] += min(lo)
                worst[pair - 1] += max(lo)
        worst = [w + s for w, s in zip(worst, spread, strict=True)]
        for network, pair, coef, ends in outputs:
            network.heads.append(network.head(qi, pair, coef * scale))
            reach = sorted(coef * scale * end for end in ends)
            best[pair - 1] += math.floor(reach[0]) - 1
            worst[pair - 1] += math.ceil(reach[1]) + 1
        const_low.append(lows)
        spreads.append(spread)
        records.append(CpQuantity(name, scale, tuple(best), tuple(worst)))
    return records, {
        "N_QUANTITIES": len(quantities),
        "CONST_LOW": const_low,
        "SPREAD": spreads,
        **rows.data(),
    }


def dzn(data: dict[str, object]) -> str:
    """The CP model's data as MiniZinc data (`.dzn`), which MiniZinc reads in half the time
    of the same numbers as JSON: every value an int, a bool, or a list or table of ints, or
    a list of sets of ints."""
    lines = []
    for name, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], list):
            cells = ", ".join(str(x) for row in value for x in row)
            text = f"array2d(1..{len(value)}, 1..{len(value[0])}, [{cells}])"
        elif isinstance(value, list) and value and isinstance(value[0], set):
            sets = ("{" + ", ".join(map(str, sorted(s))) + "}" for s in value)
            text = "[" + ", ".join(sets) + "]"
        elif isinstance(value, list):
            text = "[" + ", ".join(str(x) for x in value) + "]"
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
        lines.append(f"{name} = {text};\n")
    return "".join(lines)
