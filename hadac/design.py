"""Designs of a benchmark campaign: which params and instances each run gets.

- `grid`: every combination of param values on every instance.
- `random`: `runs` points drawn uniformly from the param domains, each with an instance.
- `lhs`: `runs` points of a Latin hypercube over the params and the instance, so that every
  param and the instances are each spread evenly over their range even for few runs.

A point drawn twice (finite domains make it likely) is not a second run of the same thing
under another name: it becomes one more repeat of that run, so that (params, instance,
repeat) names every run once and a resumed campaign can tell what is done.

Runs are listed in a seeded random order, repeat 0 of every point first: a machine that
drifts during a campaign (heat, other load) then does not line up with a param, and a
campaign stopped half-way has covered the whole design once before repeating any of it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from hadac.benchspec import BenchSetup
from hadac.problem import AlgorithmInfo, ParamDomain


@dataclass(frozen=True)
class Run:
    """One call `function(params, instance)`, the `repeat`-th of its kind."""

    params: dict[str, int | float | str]
    instance: int
    repeat: int


def plan(algorithm: AlgorithmInfo, setup: BenchSetup) -> list[Run]:
    """Every run of the campaign of `algorithm`, in the order they execute."""
    rng = np.random.default_rng(setup.seed)
    params = algorithm.params
    if setup.design == "grid":
        values = [[_typed(p, v) for v in p.values] for p in params]
        points = [
            (dict(zip([p.name for p in params], combo, strict=True)), instance)
            for combo in itertools.product(*values)
            for instance in setup.instances
        ]
        points = [points[i] for i in rng.permutation(len(points))]
    else:
        dimensions = len(params) + 1  # the instance is a dimension of its own
        if setup.design == "lhs":
            unit = qmc.LatinHypercube(d=dimensions, rng=rng).random(setup.runs)
        else:
            unit = rng.random((setup.runs, dimensions))
        points = [
            (
                {p.name: _at(p, u) for p, u in zip(params, row[:-1], strict=True)},
                _pick(setup.instances, row[-1]),
            )
            for row in unit
        ]
    seen: dict[tuple, int] = {}
    occurrences = []
    for point in points:
        key = (tuple(point[0].values()), point[1])
        occurrences.append(seen.get(key, 0))
        seen[key] = occurrences[-1] + 1
    return [
        Run(dict(point[0]), point[1], occurrence * setup.repeats + repeat)
        for repeat in range(setup.repeats)
        for point, occurrence in zip(points, occurrences, strict=True)
    ]


def _typed(param: ParamDomain, value: float) -> int | float | str:
    """A param's value as a run is given it: a str param's code as its name."""
    if param.labels is not None:
        return param.labels[int(value)]
    return int(value) if param.type == "int" else float(value)


def _pick(values, u: float):
    """The value of a finite list at position `u` in [0, 1): equal shares to each."""
    return values[min(int(u * len(values)), len(values) - 1)]


def _at(param: ParamDomain, u: float) -> int | float | str:
    if param.values is not None:
        return _typed(param, _pick(param.values, u))
    return float(param.low + u * (param.high - param.low))
