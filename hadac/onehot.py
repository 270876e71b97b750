"""Str params one-hot encoded inside the saved scikit-learn pipelines.

A str param's value is a name (`engine = "tflite"`). The data, the tables and the models'
variables hold its position among the declared names (a code 0, 1, ...), but a surrogate
of an algorithm with str params is saved as a pipeline whose first step one-hot encodes
those columns, so that `predict` takes the names themselves, as a person writes them:
`joblib.load(...).predict([["tflite", "INT8", 4]])`. The estimator of the surrogate's
kind comes after it and sees one 0/1 column per name in place of each str param; the MIP
encoders bound it over those columns (`expand`), and its numpy predictor repeats the
encoding (`encode`) before the kind's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hadac.domains import ParamDomain

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

Labels = Sequence[tuple[str, ...] | None]  # per input column: a str param's names, or None

ENCODE, MODEL = "encode", "model"  # the pipeline's steps
COUNTS = "onehot_counts"  # predictor arrays: the number of names of each input column


def raw(x: np.ndarray, labels: Labels) -> np.ndarray:
    """Rows of codes as the pipeline takes them: each str param's column holds its names
    (an object array); rows without str params are returned as they are."""
    if not any(labels):
        return x
    out = np.asarray(x, dtype=float).astype(object)
    for j, names in enumerate(labels):
        if names:
            out[:, j] = np.array(names, dtype=object)[np.asarray(x[:, j], dtype=float).astype(int)]
    return out


def pipeline(estimator: Any, labels: Labels) -> Pipeline:
    """`estimator` after a one-hot encoding of the str params' columns (each in its place,
    its names in declared order) that passes every other column through."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    steps = [
        (
            f"x{j}",
            OneHotEncoder(categories=[list(names)], sparse_output=False, dtype=np.float64)
            if names
            else "passthrough",
            [j],
        )
        for j, names in enumerate(labels)
    ]
    encoder = ColumnTransformer(steps, sparse_threshold=0.0)
    return Pipeline([(ENCODE, encoder), (MODEL, estimator)])


def unwrap(estimator: Any) -> tuple[Any, np.ndarray | None]:
    """The estimator of the surrogate's kind inside a pipeline `pipeline` made, and the
    number of names of each input column (0 for a number); the estimator itself and None
    when it is not such a pipeline."""
    steps = getattr(estimator, "named_steps", None)
    if type(estimator).__name__ != "Pipeline" or list(steps or ()) != [ENCODE, MODEL]:
        return estimator, None
    counts = [
        0 if isinstance(transformer, str) else len(transformer.categories[0])
        for _, transformer, _ in steps[ENCODE].transformers
    ]
    return steps[MODEL], np.array(counts, dtype=np.int64)


def encode(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Rows of codes as the pipeline's encoding step gives them to its estimator: one 0/1
    column per name of each str param, in its place, every other column as it is."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for j, count in enumerate(counts.tolist()):
        if count:
            columns.append((x[:, j : j + 1] == np.arange(count)).astype(np.float64))
        else:
            columns.append(x[:, j : j + 1])
    return np.ascontiguousarray(np.hstack(columns)) if columns else x


def expand(domains: Sequence[ParamDomain]) -> tuple[ParamDomain, ...]:
    """The domains of the columns the pipeline's estimator sees: a str param's as one 0/1
    column per name (`engine=tflite`), every other as it is."""
    out = []
    for p in domains:
        if p.labels is None:
            out.append(p)
            continue
        out.extend(
            ParamDomain(f"{p.name}={label}", "int", 0.0, 1.0, (0.0, 1.0), p.line)
            for label in p.labels
        )
    return tuple(out)
