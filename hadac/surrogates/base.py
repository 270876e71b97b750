"""What every surrogate kind declares: its arguments, its estimator, its MIP encoding and
its numpy predictor.

A kind is one class with one instance in the registry (`hadac.surrogates.KINDS`). The
checker validates a spec's `~ kind(...)` against `args`, `hadac.fit` builds and fits
`estimator(args)`, and the MIP model encodes the fitted estimator with `encode_mip` and
includes `templates/mip/<template>`. `arrays` and `predict` repeat scikit-learn's `predict`
with numpy alone, so that verifying an answer need not import scikit-learn
(`hadac.predictors` proves them equal at compile time). Keeping all of it in the kind's
module means a new kind needs no change to the checker, the fitter or the encoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hadac import ast
from hadac.domains import ParamDomain
from hadac.errors import Reporter

if TYPE_CHECKING:  # scikit-learn is imported where an estimator is built or read
    import numpy as np
    from sklearn.base import RegressorMixin

    from hadac.surrogates.splits import Cut, Splits


@dataclass(frozen=True)
class Arg:
    """One argument of a surrogate kind: its type, bounds and default."""

    type: str  # "int", "float" or "int list"
    default: Any
    minimum: float = 1
    maximum: float | None = None
    above: bool = False  # the minimum itself is excluded

    def problem(self, value: object) -> str | None:
        """Why `value` does not fit this argument, or None."""
        items = value if self.type == "int list" else (value,)
        if self.type == "int list" and (not isinstance(value, tuple) or not value):
            return "expected a non-empty list of integers, e.g. [16, 16]"
        for item in items:
            if isinstance(item, tuple):
                return f"expected a number, got the list [{', '.join(map(repr, item))}]"
            if isinstance(item, str):
                return f"expected a number, got the string {item!r}"
            if self.type != "float" and not float(item).is_integer():
                return f"expected an integer, got {item!r}"
            below = item <= self.minimum if self.above else item < self.minimum
            if below or (self.maximum is not None and item > self.maximum):
                lower = "greater than" if self.above else "at least"
                upper = f" and at most {self.maximum!r}" if self.maximum is not None else ""
                return f"{item!r} is out of range: must be {lower} {self.minimum!r}{upper}"
        return None

    def convert(self, value: Any) -> Any:
        """The checked spec value as the estimator takes it (ints stay ints, lists tuples)."""
        if self.type == "int list":
            return tuple(int(v) for v in value)
        return int(value) if self.type == "int" else float(value)


class Kind:
    """A surrogate kind. Subclasses set the class attributes and the two methods."""

    name: ClassVar[str]  # as written in a spec: `~ tree(...)`
    args: ClassVar[dict[str, Arg]] = {}
    # The manifest's name for the MIP encoding; kinds with one structure share it.
    structure: ClassVar[str]
    # Other MIP encodings the kind offers, which a target asks for by `encoding = NAME`.
    alternatives: ClassVar[tuple[str, ...]] = ()
    # Under templates/mip/; kinds whose MIP text is the same share one template.
    template: ClassVar[str]
    # The name of the class `estimator` builds, which tells the kind of a fitted estimator.
    estimator_type: ClassVar[str]
    # A value for every argument, small enough that a test that tries every kind fits it in
    # milliseconds and solves its MIP in seconds, yet with the structure's every feature
    # (several trees, two hidden layers).
    example: ClassVar[dict[str, Any]] = {}

    def estimator(self, args: dict[str, Any]) -> RegressorMixin:
        """An unfitted scikit-learn estimator; seeded (random_state=0) when it draws at random."""
        raise NotImplementedError

    @classmethod
    def structures(cls) -> tuple[str, ...]:
        """Every MIP encoding the kind offers, its default first."""
        return (cls.structure, *cls.alternatives)

    def cuts(self, estimator: Any, params: tuple[ParamDomain, ...], structure: str) -> set[Cut]:
        """The cuts of the params whose split variables the `structure` encoding of
        `estimator` reads; the MIP model makes them once per algorithm, shared by all its
        surrogates (`hadac.surrogates.splits`). Empty for most encodings."""
        return set()

    def encode_mip(
        self, estimator: Any, params: tuple[ParamDomain, ...], structure: str, shared: Splits
    ) -> dict:
        """The MIP template's context for the `structure` encoding of the fitted
        `estimator` over the params' domains, on the algorithm's split variables `shared`.

        The dict holds `template`, `data` (arrays for the data file, named without the
        surrogate's id), `bounds` (low, high of y over the domains) and `size` (binaries and
        constraints), plus whatever the template reads. A context with `pair_linked` true
        defines the pair's g (zero on a pair not chosen) itself rather than y.
        """
        raise NotImplementedError

    def arrays(self, estimator: Any) -> dict[str, np.ndarray] | None:
        """The numbers `predict` needs of the fitted `estimator`, saved in the build; None
        when this kind has no numpy predictor for it (the estimator is not one it built, or
        it holds a step `predict` does not repeat), so that it is verified by scikit-learn.
        """
        return None

    def predict(self, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        """What the estimator's `predict` gives on the rows of `x` (the inputs in declared
        column order, float64), computed from `arrays` with the operations scikit-learn
        runs, in its order, so that the result is the same to the bit."""
        raise NotImplementedError

    def owns(self, estimator: Any) -> bool:
        """Whether `estimator` is one this kind built."""
        return type(estimator).__name__ == self.estimator_type

    def validate(self, surrogate: ast.Surrogate, reporter: Reporter) -> dict[str, Any] | None:
        """The arguments with defaults filled in, or None after reporting every bad one."""
        values = {name: arg.default for name, arg in self.args.items()}
        ok, seen = True, set()
        for given in surrogate.args:
            spec = self.args.get(given.name)
            if spec is None:
                allowed = ", ".join(self.args) or "no arguments"
                reporter.error(
                    given.pos,
                    f"{self.name} has no argument '{given.name}' (it takes {allowed})",
                    len(given.name),
                )
                ok = False
                continue
            if given.name in seen:
                reporter.error(given.pos, f"argument '{given.name}' given twice", len(given.name))
                ok = False
                continue
            seen.add(given.name)
            problem = spec.problem(given.value)
            if problem:
                reporter.error(
                    given.pos, f"{self.name}({given.name} = ...): {problem}", len(given.name)
                )
                ok = False
                continue
            values[given.name] = spec.convert(given.value)
        return values if ok else None
