"""A good configuration found by local search on the fitted models, before a solver runs.

The CP path (`hadac.cpsolve`) proves an optimum by listing every configuration whose relaxed
objective is at most a cut. With the true objective of a configuration that meets every
bound as that cut, one listing both finds and proves the optimum, so a good configuration
found here saves the CP solver's first run (its search for the least relaxed objective).
Random configurations of every pair seed the search; the best of each pair is then improved
one param at a time, over the param's whole domain, until no param improves it. The random
draws are seeded: a build answers a query the same way every time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Configuration = tuple[int, tuple[int, ...]]  # a pair (from 1) and its params' positions
Objectives = Callable[[list[Configuration]], np.ndarray]


def search(
    sizes: Sequence[Sequence[int]],
    objectives: Objectives,
    samples: int = 100,
    descents: int = 4,
    sweeps: int = 5,
) -> Configuration | None:
    """The best configuration found, or None when no configuration tried meets the bounds.

    `sizes[i]` are the domain sizes of pair i + 1's params; `objectives` gives each
    configuration's objective to minimise, inf where it misses a bound. `samples` random
    configurations per pair, and the best of each of the `descents` pairs whose samples did
    best are improved."""
    rng = np.random.default_rng(0)
    tried: list[Configuration] = []
    for pair, domain in enumerate(sizes, start=1):
        rows = rng.integers(1, np.asarray(domain, dtype=int) + 1, size=(samples, len(domain)))
        tried += [(pair, tuple(int(k) for k in row)) for row in rows]
    values = objectives(tried)
    seeds: dict[int, int] = {}  # per pair, its best sample, the best pairs first
    for i in np.argsort(values, kind="stable"):
        if not np.isfinite(values[i]) or len(seeds) == descents:
            break
        seeds.setdefault(tried[i][0], int(i))
    best, value = None, np.inf
    for i in seeds.values():
        domain = sizes[tried[i][0] - 1]
        found, found_value = _descend(tried[i], values[i], domain, objectives, sweeps)
        if found_value < value:
            best, value = found, found_value
    return best


def _descend(
    start: Configuration,
    value: float,
    domain: Sequence[int],
    objectives: Objectives,
    sweeps: int,
) -> tuple[Configuration, float]:
    """`start` and its objective, improved one param at a time, each over its whole domain."""
    pair, positions = start
    for _ in range(sweeps):
        improved = False
        for k, size in enumerate(domain):
            trial = [(pair, positions[:k] + (j,) + positions[k + 1 :]) for j in range(1, size + 1)]
            values = objectives(trial)
            j = int(np.argmin(values))
            if values[j] < value:
                positions, value, improved = trial[j][1], float(values[j]), True
        if not improved:
            break
    return (pair, positions), value
