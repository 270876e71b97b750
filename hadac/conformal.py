"""Confidence-bounded constraints: `constraint time <= 5 min with confidence 0.95`.

A surrogate predicts a mean; a run lands above or below it. Split conformal prediction turns
the surrogate's holdout residuals (the 20% of rows the fit module keeps out of training, see
`fit.fit`) into a margin `q` such that a new run of the same pair exceeds its prediction by
more than `q` with probability at most 1 - confidence, whatever the distribution of the
noise, provided runs are exchangeable. The constraint is then posted on the prediction plus
that margin, per (algorithm, hardware) pair, since each pair has its own surrogate and noise.

An expression constraint such as `energy * carbon_intensity + 2 kWh <= ...` is affine in the
targets on each pair (hardware attributes are constants there). Its margin is the sum of the
targets' margins, each scaled by its coefficient and taken on the side that makes the
expression larger (for <=) or smaller (for >=), each at level (1 - confidence) / k for k
targets: by the union bound the whole expression then holds with the stated confidence.
A product or quotient of targets has no such bound and is an error.
"""

from __future__ import annotations

import math

import numpy as np

from hadac import affine
from hadac.errors import HadacError
from hadac.fit import Fitted
from hadac.problem import Bound, Problem


def quantile(scores: np.ndarray, alpha: float) -> float:
    """The split-conformal quantile: the ceil((n + 1)(1 - alpha))-th smallest score, or
    infinity when there are too few scores to certify 1 - alpha."""
    n = len(scores)
    rank = math.ceil((n + 1) * (1.0 - alpha) - 1e-12)
    if rank > n:
        return math.inf
    return float(np.sort(scores)[rank - 1])


def rows_needed(alpha: float) -> int:
    """The fewest calibration rows with which `quantile` is finite at level `alpha`."""
    return max(1, math.ceil((1.0 - alpha) / alpha - 1e-12))


def margins(problem: Problem, fitted: dict[tuple[str, str, str], Fitted]) -> dict[int, list[float]]:
    """Per constraint with a confidence (by its index in `problem.bounds`), the margin of
    each pair, in the constraint's unit and in the order of `problem.pairs`."""
    out = {}
    for index, bound in enumerate(problem.bounds):
        if getattr(bound, "confidence", None) is not None:
            out[index] = [_pair_margin(problem, fitted, bound, pair) for pair in problem.pairs]
    return out


def _pair_margin(problem: Problem, fitted, bound: Bound, pair) -> float:
    where = f"{problem.spec.path}:{bound.line}: '{bound.text}'"
    names = {t.name for t in problem.targets}
    numbers = problem.hardware_info(pair.hardware).numbers
    try:
        form = affine.form(bound.expr, numbers, names)
    except affine.NotLinear as err:
        raise HadacError(
            f"{where}: a confidence needs an expression that is a sum of targets times"
            f" constants on each hardware, and this one contains {err}"
        ) from None
    terms = {t: c for t, c in form.coefs.items() if c != 0.0}
    alpha = (1.0 - bound.confidence) / max(1, len(terms))
    total = 0.0
    for target, coefficient in terms.items():
        result = fitted[(pair.algorithm, pair.hardware, target)]
        if result.holdout_y is None:
            raise HadacError(
                f"{where}: {pair.algorithm} on {pair.hardware} has {result.rows} rows;"
                f" a confidence needs the holdout of at least 10 rows to calibrate '{target}'"
            )
        residuals = result.holdout_y - result.holdout_predicted  # above the prediction: > 0
        upward = (coefficient > 0) == (bound.op == "<=")
        q = quantile(residuals if upward else -residuals, alpha)
        if math.isinf(q):
            need = rows_needed(alpha)
            split = f" ({1 - alpha:g} for each of {len(terms)} targets)" if len(terms) > 1 else ""
            raise HadacError(
                f"{where}: confidence {bound.confidence:g}{split} needs at least {need} holdout"
                f" rows of '{target}' per pair (a fifth of the data); {pair.algorithm} on"
                f" {pair.hardware} has {len(residuals)}"
            )
        total += abs(coefficient) * q
    return float(f"{total:.15g}")
