"""Which leaves of a MIP build's split-encoded trees a solve may choose: the `OPEN` data of
`templates/mip/tree_splits.mzn.j2`.

A solve of one pair, or over narrower param ranges than the domains (`hadac.propagate`),
closes the leaves it cannot choose: every leaf of a pair not open, and every leaf under a
split node's side that the ranges rule out. MiniZinc then leaves those leaves out of every
sum and drops the rows that only hold closed leaves, so the model it flattens shrinks with
what the solve can still choose, though the model itself stays the build's.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from hadac.builddir import BuildDir
from hadac.encode import names
from hadac.query import Query
from hadac.surrogates.splits import STRUCTURE


def data(build: BuildDir, query: Query) -> dict[str, list[int]]:
    """Per split-encoded surrogate, its `OPEN` array: how many of its leaves before each
    position are open, from 0 (so leaf l is open when OPEN[l + 1] > OPEN[l])."""
    manifest = build.manifest
    pairs = {(p.algorithm, p.hardware): i for i, p in enumerate(manifest.pairs, start=1)}
    out = {}
    for index, s in enumerate(manifest.surrogates, start=1):
        if s.encoding != STRUCTURE:
            continue
        sid = names.section(index)
        pair = pairs[(s.algorithm, s.hardware)]
        leaves = int(s.size["weights"])
        if query.pairs is not None and pair not in query.pairs:
            out[f"{sid}_OPEN"] = [0] * (leaves + 1)
            continue
        ranges = [r for r in query.ranges if r.algorithm == s.algorithm]
        if not ranges:
            out[f"{sid}_OPEN"] = list(range(leaves + 1))
            continue
        arrays = _arrays(build.data_path, build.data_path.stat().st_mtime_ns)
        params = [p.name for p in manifest.params[s.algorithm]]
        low = np.full(len(params) + 1, -np.inf)  # by the model's param index, from 1
        high = np.full(len(params) + 1, np.inf)
        for r in ranges:
            low[params.index(r.param) + 1], high[params.index(r.param) + 1] = r.low, r.high
        param = arrays[names.split_param(s.algorithm)]
        ruled_out = {  # per cut, whether the ranges rule its side out
            "LEFT": low[param] > arrays[names.split_left(s.algorithm)],
            "RIGHT": high[param] < arrays[names.split_right(s.algorithm)],
        }
        closed = np.zeros(leaves + 2, dtype=np.int64)  # +1 from a ruled-out row's first leaf
        for side, out_cuts in ruled_out.items():
            out_rows = out_cuts[arrays[f"{sid}_{side}_SPLIT"] - 1]
            np.add.at(closed, arrays[f"{sid}_{side}_FIRST"][out_rows], 1)
            np.add.at(closed, arrays[f"{sid}_{side}_LAST"][out_rows] + 1, -1)
        is_open = np.cumsum(closed)[1 : leaves + 1] == 0
        out[f"{sid}_OPEN"] = [0, *np.cumsum(is_open).tolist()]
    return out


class _Arrays:
    """The int and float lists of the build's MIP data, each parsed when first asked for:
    `hadac.jsondata` writes one datum a line, and a solve of one pair reads a few."""

    def __init__(self, path: Path):
        self.lines: dict[str, str] = {}
        for line in path.read_text().splitlines()[1:-1]:
            key, _, value = line.strip().rstrip(",").partition(": ")
            self.lines[key.strip('"')] = value
        self.parsed: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.parsed:
            self.parsed[name] = np.array(json.loads(self.lines[name]))
        return self.parsed[name]


@lru_cache(maxsize=4)
def _arrays(path: Path, mtime_ns: int) -> _Arrays:
    """The build's MIP data (read once per version of the file)."""
    return _Arrays(path)
