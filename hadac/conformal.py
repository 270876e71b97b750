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


def tightened(op: str, bound: float, margin: float) -> float:
    """The bound the prediction itself must meet: `bound - margin` for <=, `+` for >=."""
    return bound - margin if op == "<=" else bound + margin


def holds(entry: dict, value: float, margin: float) -> bool:
    """Whether a prediction meets a manifest constraint once its margin is added."""
    if entry["op"] == "<=":
        return value + margin <= entry["bound"]
    return value - margin >= entry["bound"]


def margin_for(entry: dict, algorithm: str, hardware: str) -> float:
    """The margin a manifest constraint entry adds on a pair (0 without a confidence)."""
    for row in entry.get("margins", ()):
        if row["algorithm"] == algorithm and row["hardware"] == hardware:
            return float(row["margin"])
    return 0.0


def manifest_fields(bound: Bound, margins_of_pairs: list[float], problem: Problem) -> dict:
    """What the manifest records of a confidence constraint: its level and every margin."""
    return {
        "confidence": bound.confidence,
        "margins": [
            {"algorithm": p.algorithm, "hardware": p.hardware, "margin": m}
            for p, m in zip(problem.pairs, margins_of_pairs, strict=True)
        ],
    }


def limit_array(index: int) -> str:
    """The data array of per-configuration rank limits of the index-th constraint."""
    return f"LIMIT_constraint_{index + 1}"


def rank_limits(quantity, bound: Bound, pair_margins: list[float], pair_ranges) -> list[int]:
    """For the enumerated model: per configuration, the highest (for <=) or lowest (for >=)
    rank of the quantity that meets the bound once that configuration's pair margin is added."""
    limits: list[int] = []
    for (first, last), margin in zip(pair_ranges, pair_margins, strict=True):
        rank = quantity.threshold(bound.op, tightened(bound.op, bound.bound, margin))
        limits.extend([int(rank)] * (last - first + 1))
    return limits


def mip_constraint(var: str, bound: Bound, pair_margins: list[float]) -> str:
    """For the MIP model: the constraint with each pair's margin switched on by its `run`."""
    terms = " + ".join(f"{m!r} * run[{i}]" for i, m in enumerate(pair_margins, start=1))
    sign = "+" if bound.op == "<=" else "-"
    return f"constraint {var} {sign} ({terms}) {bound.op} {float(bound.bound)!r};"


def rank_fields(index: int, bound: Bound, quantity, pair_margins: list[float], tables):
    """The enumerated model's view of a confidence constraint: its template fields (the
    limit array and a comment) and the data of the per-configuration rank limits."""
    limits = rank_limits(quantity, bound, pair_margins, tables.pair_ranges)
    ranks = quantity.ranks
    meets = (ranks <= limits) if bound.op == "<=" else (ranks >= limits)
    unit = f" {quantity.unit}" if quantity.unit else ""
    sign = "+" if bound.op == "<=" else "-"
    comment = (
        f"{quantity.name} {sign} margin {bound.op} {bound.bound!r}{unit} with confidence"
        f" {bound.confidence:g}, margins {min(pair_margins):.6g} to {max(pair_margins):.6g}"
        f"{unit} by pair: {int(meets.sum())} of {tables.size} configurations hold"
    )
    return {"limits": limit_array(index), "comment": comment}, {limit_array(index): limits}
