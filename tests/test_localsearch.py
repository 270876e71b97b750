"""The local search that gives the CP path its first cut (hadac.localsearch)."""

from __future__ import annotations

import numpy as np

from hadac.localsearch import search


def _objectives(configurations):
    """A separable bowl per pair, lowest on pair 2 at positions (7, 3); pair 1 misses a
    bound wherever its first param is above 5."""
    out = []
    for pair, (a, b) in configurations:
        if pair == 1:
            out.append(np.inf if a > 5 else 10.0 + (a - 2) ** 2 + (b - 2) ** 2)
        else:
            out.append(1.0 + (a - 7) ** 2 + 0.5 * (b - 3) ** 2)
    return np.array(out)


def test_search_finds_the_best_configuration_of_a_separable_objective():
    assert search([[9, 6], [9, 6]], _objectives) == (2, (7, 3))


def test_search_gives_the_same_configuration_every_time():
    sizes = [[40, 40], [40, 40]]
    assert search(sizes, _objectives, samples=5) == search(sizes, _objectives, samples=5)


def test_search_finds_nothing_where_no_configuration_meets_the_bounds():
    def nowhere(configurations):
        return np.full(len(configurations), np.inf)

    assert search([[9, 6], [9, 6]], nowhere) is None
