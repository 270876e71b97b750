"""Surrogate kinds, one module each, and the registry the rest of hadac asks.

A kind's module holds everything about it: its arguments, the scikit-learn estimator it
builds and its MIP encoding (`base.Kind`); its MiniZinc text is `templates/mip/<template>`.
The checker, `hadac.fit` and `hadac.encode.mip` know kinds only through `KINDS` and the
functions below, so a new kind is its module, its template and its line in `KINDS`.
"""

from __future__ import annotations

from typing import Any

from hadac import ast
from hadac.domains import ParamDomain
from hadac.errors import Reporter
from hadac.surrogates.base import Arg, Kind
from hadac.surrogates.boosted import Boosted
from hadac.surrogates.forest import Forest
from hadac.surrogates.linear import Linear
from hadac.surrogates.mlp import MLP
from hadac.surrogates.splits import Cut, Splits
from hadac.surrogates.tree import Tree

# In the order error messages list them: simplest first.
KINDS: dict[str, Kind] = {k.name: k for k in (Linear(), Tree(), Forest(), Boosted(), MLP())}


def kind(name: str) -> Kind:
    """The kind called `name` in a spec; KeyError for a name the checker would have refused."""
    return KINDS[name]


def validate(surrogate: ast.Surrogate, reporter: Reporter) -> dict[str, Any] | None:
    """The surrogate's arguments with defaults filled in, or None after reporting errors."""
    found = KINDS.get(surrogate.kind)
    if found is None:
        reporter.error(
            surrogate.pos,
            f"unknown surrogate '{surrogate.kind}'; expected one of {', '.join(KINDS)}",
            len(surrogate.kind),
        )
        return None
    return found.validate(surrogate, reporter)


def _encoder(structure: str, estimator: Any) -> Kind:
    """The kind that built `estimator` and offers the `structure` encoding.

    The MIP model is given fitted estimators and their structure, not their kinds: the
    estimator's class tells which kind encodes it.
    """
    for candidate in KINDS.values():
        if structure in candidate.structures() and candidate.owns(estimator):
            return candidate
    raise TypeError(f"no {structure} surrogate kind builds a {type(estimator).__name__}")


def cuts(structure: str, estimator: Any, params: tuple[ParamDomain, ...]) -> set[Cut]:
    """The param cuts whose shared split variables the estimator's encoding reads."""
    return _encoder(structure, estimator).cuts(estimator, params, structure)


def encode_mip(
    structure: str, estimator: Any, params: tuple[ParamDomain, ...], shared: Splits
) -> dict:
    """The MIP encoding of a fitted estimator, by the kind with that structure that built it,
    on its algorithm's shared split variables."""
    return _encoder(structure, estimator).encode_mip(estimator, params, structure, shared)


__all__ = ["KINDS", "Arg", "Cut", "Kind", "Splits", "cuts", "encode_mip", "kind", "validate"]
