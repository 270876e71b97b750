"""Expressions of targets and hardware attributes as affine forms, one per pair.

Within one (algorithm, hardware) pair a hardware attribute is a constant, so `price * time`
is `0.5 * time` on one pair and `2.4 * time` on another: linear, as a MIP solver needs.
Products or quotients of two targets are not; they are reported, with the table encoding
as the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hadac.units import Const, Lowered, Op, Var


class NotLinear(ValueError):
    pass


@dataclass
class Form:
    """const + sum(coefs[target] * target), on one pair."""

    const: float = 0.0
    coefs: dict[str, float] = field(default_factory=dict)

    def scaled(self, by: float) -> Form:
        return Form(self.const * by, {t: c * by for t, c in self.coefs.items()})

    def plus(self, other: Form, sign: float = 1.0) -> Form:
        coefs = dict(self.coefs)
        for t, c in other.coefs.items():
            coefs[t] = coefs.get(t, 0.0) + sign * c
        return Form(self.const + sign * other.const, coefs)


def form(expr: Lowered, attributes: dict[str, float], targets: set[str]) -> Form:
    """The affine form of `expr` on a pair whose hardware has `attributes`."""
    if isinstance(expr, Const):
        return Form(expr.value)
    if isinstance(expr, Var):
        if expr.name in targets:
            return Form(0.0, {expr.name: 1.0})
        return Form(float(attributes[expr.name]))
    assert isinstance(expr, Op)
    left = form(expr.left, attributes, targets)
    if expr.op == "neg":
        return left.scaled(-1.0)
    right = form(expr.right, attributes, targets)
    if expr.op in "+-":
        return left.plus(right, 1.0 if expr.op == "+" else -1.0)
    if expr.op == "*":
        if left.coefs and right.coefs:
            raise NotLinear("a product of two targets")
        return right.scaled(left.const) if not left.coefs else left.scaled(right.const)
    if right.coefs:
        raise NotLinear("a division by a target")
    if right.const == 0.0:
        raise NotLinear("a division by zero")
    return left.scaled(1.0 / right.const)
