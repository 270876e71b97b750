"""Answers computed without the compiler, to check its models against.

Every oracle here uses only what a build saves (the fitted estimators, through joblib), the
data files and scikit-learn, so that a bug in the encoders or the solve cannot hide in the
reference it is compared with: enumeration of every configuration (an algorithm on a
hardware with one value of each param), and the split-conformal margin of a target.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import joblib
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeRegressor

from hadac.compiler import model_file_name

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DATA = REPO / "specs" / "data"

# The configurations of the example specs in specs/ other than energy-local.hada: each
# algorithm's values of its one param, and the (algorithm, hardware) pairs with data.
DOMAINS: dict[str, tuple[Sequence[float], ...]] = {
    "anticipate": (range(1, 21),),
    "contingency": ((1, 2, 4, 8, 16, 32),),
}
PAIRS = [
    ("anticipate", "laptop"),
    ("anticipate", "server"),
    ("anticipate", "cloud"),
    ("contingency", "laptop"),
    ("contingency", "server"),
]
PRICE = {"laptop": 0.10, "server": 1.20, "cloud": 0.45}  # EUR/h
# carbon.hada: g CO2e/kWh of each location a hardware lists (codecarbon 3.3.2's table).
INTENSITY = {"laptop": (330.718,), "server": (661.926,), "cloud": (330.718, 56.039, 40.695)}


class Configuration(NamedTuple):
    """One configuration and what the saved estimators predict for each target there."""

    algorithm: str
    hardware: str
    point: tuple[float, ...]
    predicted: dict[str, float]


def load_models(
    directory: Path,
    algorithm: str,
    hardware: str,
    targets: Iterable[str],
    missing_ok=False,
    shared: Iterable[str] = (),
) -> dict[str, Any]:
    """The estimators a build saved for one pair, by target; with `missing_ok`, the targets
    the build has no model of (a spec without that target) are left out; the `shared`
    targets are the algorithm's, fitted on its hardware-independent data."""
    models = {}
    for target in targets:
        on = None if target in shared else hardware
        path = Path(directory) / "models" / model_file_name(algorithm, on, target)
        if missing_ok and not path.exists():
            continue
        models[target] = joblib.load(path)
    return models


def predict(model: Any, point: Sequence[float]) -> float:
    """One estimator's prediction at one configuration's param values."""
    return float(model.predict(np.array([point], dtype=float))[0])


def configurations(
    directory: Path,
    pairs: Iterable[tuple[str, str]],
    domains: Mapping[str, Sequence[Sequence[float]]],
    targets: Iterable[str],
    missing_ok: bool = False,
    inputs: Sequence[float] = (),
    shared: Iterable[str] = (),
) -> Iterator[Configuration]:
    """Every configuration of `pairs`, the params of each algorithm ranging over `domains`
    (per algorithm, the values of each param in declared order), with the predictions of
    the estimators saved in the build at `directory`; `inputs`, the values of the instance
    inputs in declared order, follow the params in every row predicted on; `shared` as for
    `load_models`."""
    targets, shared = tuple(targets), tuple(shared)
    for algorithm, hardware in pairs:
        models = load_models(directory, algorithm, hardware, targets, missing_ok, shared)
        points = list(itertools.product(*domains[algorithm]))
        x = np.array(points, dtype=float).reshape(len(points), len(domains[algorithm]))
        x = np.column_stack([x, np.tile(np.asarray(inputs, dtype=float), (len(x), 1))])
        columns = {t: m.predict(x) for t, m in models.items()}
        for row, point in enumerate(points):
            predicted = {t: float(column[row]) for t, column in columns.items()}
            yield Configuration(algorithm, hardware, tuple(map(float, point)), predicted)


def optimum(
    rows: Iterable[Configuration],
    value: Callable[[Configuration], float | None],
    sense: str = "minimize",
) -> float | None:
    """The best objective over `rows`, `value` giving a configuration's objective or None
    when it breaks a constraint; None when no configuration is feasible."""
    values = [v for v in map(value, rows) if v is not None]
    if not values:
        return None
    return min(values) if sense == "minimize" else max(values)


@cache  # the same margin is asked for at every value of a param
def conformal_margin(
    algorithm: str,
    hardware: str,
    column: str,
    level: float,
    sign: float = 1.0,
    data: Path = EXAMPLE_DATA,
) -> float:
    """The split-conformal margin of a `tree(max_depth = 6)` target of one example pair,
    recomputed from its data file with scikit-learn alone: the same 80/20 split hadac makes,
    then the order statistic of the holdout residuals (negated when `sign` is -1, for a
    `>=` bound) at `level`."""
    frame = pd.read_csv(data / f"{algorithm}_{hardware}.csv")
    x, y = frame.iloc[:, :1].to_numpy(float), frame[column].to_numpy(float)
    x_fit, x_cal, y_fit, y_cal = train_test_split(x, y, test_size=0.2, random_state=0)
    model = DecisionTreeRegressor(max_depth=6, random_state=0).fit(x_fit, y_fit)
    scores = np.sort(sign * (y_cal - model.predict(x_cal)))
    return float(scores[math.ceil((len(scores) + 1) * level) - 1])
