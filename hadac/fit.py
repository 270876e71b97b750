"""Surrogate kinds: what arguments each takes, the scikit-learn estimator it builds, fitting.

A kind is declared once in `KINDS`; the checker validates spec arguments against it and the
compiler builds and fits estimators from it. Every estimator is seeded (`random_state=0`) so
the same data give the same model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from hadac import ast
from hadac.errors import Reporter


@dataclass(frozen=True)
class Arg:
    """One argument of a surrogate kind: its type, bounds and default."""

    type: str  # "int", "float" or "int list"
    default: object
    minimum: float = 1
    maximum: float | None = None
    above: bool = False  # the minimum itself is excluded


@dataclass(frozen=True)
class Kind:
    args: dict[str, Arg]
    build: Callable[[dict], RegressorMixin]


def _constant(args: dict) -> RegressorMixin:
    return DummyRegressor(strategy="mean")


def _mlp(args: dict) -> RegressorMixin:
    """ReLU network; inputs and outputs are standardised inside the estimator."""
    network = MLPRegressor(
        hidden_layer_sizes=tuple(args["hidden"]),
        activation="relu",
        max_iter=2000,
        random_state=0,
    )
    return TransformedTargetRegressor(
        regressor=Pipeline([("scale", StandardScaler()), ("mlp", network)]),
        transformer=StandardScaler(),
    )


KINDS: dict[str, Kind] = {
    "linear": Kind({}, lambda a: LinearRegression()),
    "tree": Kind(
        {"max_depth": Arg("int", 10, maximum=64)},
        lambda a: DecisionTreeRegressor(max_depth=a["max_depth"], random_state=0),
    ),
    "forest": Kind(
        {"n_estimators": Arg("int", 100, maximum=5000), "max_depth": Arg("int", 8, maximum=64)},
        lambda a: RandomForestRegressor(
            n_estimators=a["n_estimators"], max_depth=a["max_depth"], random_state=0, n_jobs=1
        ),
    ),
    "boosted": Kind(
        {
            "n_estimators": Arg("int", 100, maximum=5000),
            "max_depth": Arg("int", 3, maximum=64),
            "learning_rate": Arg("float", 0.1, minimum=0.0, maximum=1.0, above=True),
        },
        lambda a: GradientBoostingRegressor(
            n_estimators=a["n_estimators"],
            max_depth=a["max_depth"],
            learning_rate=a["learning_rate"],
            random_state=0,
        ),
    ),
    "mlp": Kind({"hidden": Arg("int list", (16,), maximum=4096)}, _mlp),
}


def validate(surrogate: ast.Surrogate, reporter: Reporter) -> dict | None:
    """The surrogate's arguments with defaults filled in, or None after reporting errors."""
    kind = KINDS.get(surrogate.kind)
    if kind is None:
        reporter.error(
            surrogate.pos,
            f"unknown surrogate '{surrogate.kind}'; expected one of {', '.join(KINDS)}",
            len(surrogate.kind),
        )
        return None
    values = {name: arg.default for name, arg in kind.args.items()}
    ok, seen = True, set()
    for given in surrogate.args:
        spec = kind.args.get(given.name)
        if spec is None:
            allowed = ", ".join(kind.args) or "no arguments"
            reporter.error(
                given.pos,
                f"{surrogate.kind} has no argument '{given.name}' (it takes {allowed})",
                len(given.name),
            )
            ok = False
            continue
        if given.name in seen:
            reporter.error(given.pos, f"argument '{given.name}' given twice", len(given.name))
            ok = False
            continue
        seen.add(given.name)
        problem = _check_value(given.value, spec)
        if problem:
            reporter.error(
                given.pos, f"{surrogate.kind}({given.name} = ...): {problem}", len(given.name)
            )
            ok = False
            continue
        values[given.name] = (
            tuple(int(v) for v in given.value)
            if spec.type == "int list"
            else (int(given.value) if spec.type == "int" else float(given.value))
        )
    return values if ok else None


def _check_value(value: object, spec: Arg) -> str | None:
    """Why `value` does not fit `spec`, or None."""
    items = value if spec.type == "int list" else (value,)
    if spec.type == "int list" and (not isinstance(value, tuple) or not value):
        return "expected a non-empty list of integers, e.g. [16, 16]"
    for item in items:
        if isinstance(item, tuple):
            return f"expected a number, got the list [{', '.join(map(repr, item))}]"
        if isinstance(item, str):
            return f"expected a number, got the string {item!r}"
        if spec.type != "float" and not float(item).is_integer():
            return f"expected an integer, got {item!r}"
        below = item <= spec.minimum if spec.above else item < spec.minimum
        if below or (spec.maximum is not None and item > spec.maximum):
            lower = "greater than" if spec.above else "at least"
            upper = f" and at most {spec.maximum!r}" if spec.maximum is not None else ""
            return f"{item!r} is out of range: must be {lower} {spec.minimum!r}{upper}"
    return None


@dataclass
class Fitted:
    """A fitted estimator and how well a copy trained on 80% predicted the other 20%."""

    estimator: RegressorMixin
    r2: float | None
    mae: float | None
    rows: int
    # The 20% held out and what the 80% copy predicted there: the calibration set of
    # confidence-bounded constraints (hadac.conformal) and the fit plots of reports.
    holdout_y: np.ndarray | None = None
    holdout_predicted: np.ndarray | None = None


MIN_ROWS = 10  # the fewest rows a surrogate is fitted on: 8 to fit a copy, 2 to check it
HOLDOUT = 0.2  # the share of rows held out to measure a fit and calibrate confidences


def fit(kind: str, args: dict, x: np.ndarray, y: np.ndarray) -> Fitted:
    """Fit on all rows; holdout metrics come from a fixed 80/20 split (random_state=0).

    An algorithm without params is one program: each target is its mean on the pair's
    rows, whatever the kind asked for, and R² (which a constant cannot have) is left out.
    """
    build = KINDS[kind].build if x.shape[1] else _constant
    r2 = mae = y_test = held = None
    if len(y) >= MIN_ROWS:
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=HOLDOUT, random_state=0)
        held = build(args).fit(x_train, y_train).predict(x_test)
        mae = float(mean_absolute_error(y_test, held))
        r2 = float(r2_score(y_test, held)) if np.ptp(y_test) > 0 and x.shape[1] else None
    return Fitted(build(args).fit(x, y), r2, mae, len(y), y_test, held)
