"""Units of measure: parsing them, checking expressions, and lowering expressions to plain
arithmetic in the units each quantity is stored in.

Targets are stored in the unit their `target` line declares and hardware attributes in the
unit they are written with. Lowering multiplies in the conversion factors once, at compile
time, so the model and the verifier only ever do unit-free arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hadac import ast
from hadac.errors import Reporter
from hadac.manifest import Written

if TYPE_CHECKING:  # pint is imported when a unit is first parsed: evaluating needs none
    import pint


def import_pint():
    """pint, imported without its support for dask arrays.

    pint imports dask at its own import whenever dask is installed (hadac's `bench` extra
    installs it for `--scheduler`), which costs every command about 0.2 s; hadac never puts
    quantities in dask arrays. While pint is first imported, dask is marked as absent, so
    pint's `find_spec("dask")` finds nothing; a later `import dask` works as usual.
    """
    import sys

    if "pint" in sys.modules or "dask" in sys.modules:
        import pint

        return pint
    sys.modules["dask"] = None  # type: ignore[assignment]
    try:
        import pint
    finally:
        del sys.modules["dask"]
    return pint


@cache
def registry() -> pint.UnitRegistry:
    """pint's registry plus currencies (each its own dimension: no exchange rates)."""
    pint = import_pint()
    ureg = pint.UnitRegistry(cache_folder=_cache_folder(pint))
    ureg.define("EUR = [currency_eur]")
    ureg.define("USD = [currency_usd]")
    return ureg


def _cache_folder(pint) -> Path:
    """Where pint keeps its parsed definitions between runs, one folder per pint install:
    its cache records the definition files' paths, so a cache shared by two environments
    breaks the other one once the first is deleted."""
    import hashlib

    import platformdirs

    where = str(Path(pint.__file__).resolve().parent).encode()
    return platformdirs.user_cache_path("hadac") / f"pint-{hashlib.sha256(where).hexdigest()[:16]}"


@lru_cache(maxsize=1024)
def parse_unit(text: str) -> pint.Unit:
    """A pint unit from its text; `ValueError` naming the text when pint does not know it.
    Kept by text: every query parses the build's units again, and pint takes about 0.1 ms a
    unit."""
    pint = import_pint()

    try:
        unit = registry().parse_units(text)
    except (pint.errors.PintError, AttributeError, TypeError, SyntaxError, ValueError, KeyError):
        raise ValueError(f"unknown unit '{text}'") from None
    return unit


DIMENSIONLESS = None  # the unit of a bare number, until context gives it one


def factor(source: pint.Unit, dest: pint.Unit) -> float:
    """The number to multiply a value in `source` by to express it in `dest`."""
    return float(registry().Quantity(1.0, source).to(dest).magnitude)


def compatible(a: pint.Unit, b: pint.Unit) -> bool:
    return registry().Quantity(1.0, a).dimensionality == registry().Quantity(1.0, b).dimensionality


def pretty(unit: pint.Unit | None) -> str:
    """Short unit text as a user writes it: `EUR/h`, `kg`, `s`."""
    if unit is None:
        return ""
    text = f"{unit:~}"
    return text.replace(" ", "")


def written_as(stored: pint.Unit | None, written: pint.Unit | None) -> Written:
    """How a bound written in `written` on a quantity stored in `stored` shows its values."""
    if stored is None or written is None or stored == written:
        return Written()
    if not (_linear(stored) and _linear(written)):
        return Written()
    return Written(pretty(written), factor(stored, written))


# ---- lowered expressions: plain arithmetic on stored values ----


@dataclass(frozen=True)
class Const:
    value: float


@dataclass(frozen=True)
class Var:
    """A target or hardware attribute, in the unit it is stored in."""

    name: str


@dataclass(frozen=True)
class Op:
    op: str  # + - * / or "neg" (right is None)
    left: Lowered
    right: Lowered | None = None


Lowered = Const | Var | Op


def evaluate(expr: Lowered, values: dict[str, np.ndarray | float]) -> np.ndarray | float:
    """Evaluate a lowered expression; `values` may hold numpy arrays (one entry per choice)."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Var):
        return values[expr.name]
    left = evaluate(expr.left, values)
    if expr.op == "neg":
        return -left
    right = evaluate(expr.right, values)
    if expr.op == "+":
        return left + right
    if expr.op == "-":
        return left - right
    if expr.op == "*":
        return left * right
    return left / right


def names_in(expr: Lowered) -> set[str]:
    if isinstance(expr, Var):
        return {expr.name}
    if isinstance(expr, Op):
        return names_in(expr.left) | (names_in(expr.right) if expr.right is not None else set())
    return set()


def _tidy(value: float) -> float:
    """Round away binary noise from unit conversions: 30 mg is 3e-05 kg, not 2.99...97e-05."""
    return float(f"{value:.15g}")


def fold(op: str, left: Lowered, right: Lowered | None = None) -> Lowered:
    """An operation, computed now when its operands are constants."""
    if isinstance(left, Const) and (right is None or isinstance(right, Const)):
        return Const(_tidy(float(evaluate(Op(op, left, right), {}))))
    return Op(op, left, right)


def scaled(expr: Lowered, by: float) -> Lowered:
    return expr if by == 1.0 else fold("*", expr, Const(by))


MAX_DEPTH = 200  # nested operators of a lowered expression
MAX_SIZE = 20_000  # its nodes, counting an inlined let at each use


def _small(expr: Lowered) -> bool:
    """Whether `expr` is within `MAX_DEPTH` and `MAX_SIZE`: measured without recursion, and
    once per shared node, since inlined lets make the expression a DAG."""
    shape: dict[int, tuple[int, int]] = {}  # id -> (depth, size)
    stack = [expr]
    while stack:
        node = stack[-1]
        if id(node) in shape:
            stack.pop()
            continue
        children = (
            [c for c in (node.left, node.right) if c is not None] if isinstance(node, Op) else []
        )
        pending = [c for c in children if id(c) not in shape]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        depth = 1 + max((shape[id(c)][0] for c in children), default=0)
        size = 1 + sum(shape[id(c)][1] for c in children)
        if depth > MAX_DEPTH or size > MAX_SIZE:
            return False
        shape[id(node)] = (depth, size)
    return True


def _start(expr: ast.Expr) -> ast.Pos:
    """Where an expression starts: its leftmost operand, unless it opens with a minus."""
    while isinstance(expr, ast.Binary):
        expr = expr.left
    return expr.pos


class Typer:
    """Checks the units of expressions and lowers them.

    `units` maps each name usable in an expression to the unit its values are stored in.
    Errors go to the reporter; a failed expression lowers to None. Names in `invalid` are
    declared but already reported as broken: they fail quietly rather than as unknown.
    """

    def __init__(
        self, units: dict[str, pint.Unit], reporter: Reporter, invalid: frozenset[str] = frozenset()
    ):
        self.units = units
        self.reporter = reporter
        self.invalid = invalid
        # a let's name -> its lowered expression (inlined where used) and unit
        self.lets: dict[str, tuple[Lowered, pint.Unit | None]] = {}

    def lower(self, expr: ast.Expr) -> tuple[Lowered, pint.Unit | None] | None:
        """The lowered expression and its unit (None for a bare number).

        Lets are inlined, so a short expression can stand for a deep or huge one; that is
        refused here, at the expression, before a recursive pass over it could overflow.
        """
        lowered = self._lower(expr)
        if lowered is not None and not _small(lowered[0]):
            self.reporter.error(
                _start(expr),
                f"expression too deep or too large once its lets are inlined (more than"
                f" {MAX_DEPTH} nested operators or {MAX_SIZE} terms); simplify it",
            )
            return None
        return lowered

    def _lower(self, expr: ast.Expr) -> tuple[Lowered, pint.Unit | None] | None:
        if isinstance(expr, ast.Quantity):
            if expr.unit is None:
                return Const(expr.value), DIMENSIONLESS
            try:
                unit = parse_unit(expr.unit)
            except ValueError as err:
                self.reporter.error(expr.pos, str(err))
                return None
            return Const(expr.value), unit
        if isinstance(expr, ast.Ref):
            if expr.name in self.lets:
                return self.lets[expr.name]
            if expr.name in self.invalid and expr.name not in self.units:
                return None
            if expr.name not in self.units:
                known = ", ".join(sorted([*self.units, *self.lets])) or "none"
                self.reporter.error(
                    expr.pos,
                    f"unknown name '{expr.name}': not a target, let or attribute (known: {known})",
                    len(expr.name),
                )
                return None
            return Var(expr.name), self.units[expr.name]
        if isinstance(expr, ast.Negate):
            inner = self._lower(expr.operand)
            return None if inner is None else (fold("neg", inner[0]), inner[1])
        left, right = self._lower(expr.left), self._lower(expr.right)
        if left is None or right is None:
            return None
        if expr.op in "*/":
            if expr.op == "/" and right[0] == Const(0.0):
                self.reporter.error(expr.pos, "division by zero")
                return None
            for unit in (left[1], right[1]):
                if unit is not None and not _linear(unit):
                    verb = "multiply" if expr.op == "*" else "divide"
                    self.reporter.error(
                        expr.pos,
                        f"cannot {verb} with {pretty(unit)}: it is an offset or logarithmic unit;"
                        " use an absolute one such as K",
                    )
                    return None
            unit = _combine(left[1], right[1], expr.op)
            lowered = fold(expr.op, left[0], right[0])
            if unit is None:
                return lowered, None
            pint = import_pint()

            try:
                simple = registry().Quantity(1.0, unit).to_reduced_units()
            except (pint.errors.PintError, ArithmeticError):
                self.reporter.error(expr.pos, f"cannot simplify the unit {pretty(unit)}")
                return None
            return scaled(lowered, float(simple.magnitude)), simple.units
        joined = self.join(left, right, expr.pos, f"'{expr.op}'")
        if joined is None:
            return None
        (lhs, unit), (rhs, _) = joined
        return fold(expr.op, lhs, rhs), unit

    def join(self, left, right, pos: ast.Pos, what: str):
        """Bring two operands of + - or a comparison to one unit (the left's, when it has one).

        A bare number takes the unit of the other side.
        """
        (lexpr, lunit), (rexpr, runit) = left, right
        if lunit is None or runit is None:
            return (lexpr, lunit or runit), (rexpr, lunit or runit)
        if not compatible(lunit, runit):
            self.reporter.error(
                pos,
                f"incompatible units for {what}: {_said(lunit)} and {_said(runit)}",
                len(what) - 2,
            )
            return None
        if lunit == runit:
            return (lexpr, lunit), (rexpr, lunit)
        if not (_linear(lunit) and _linear(runit)):
            self.reporter.error(
                pos,
                f"cannot convert {pretty(runit)} to {pretty(lunit)} for {what}: offset and"
                f" logarithmic units do not scale; write both sides in {pretty(lunit)}",
                len(what) - 2,
            )
            return None
        try:
            by = factor(runit, lunit)
        except ArithmeticError:
            self.reporter.error(
                pos,
                f"cannot convert {pretty(runit)} to {pretty(lunit)}: out of range",
                len(what) - 2,
            )
            return None
        return (lexpr, lunit), (scaled(rexpr, by), lunit)


def _linear(unit: pint.Unit) -> bool:
    """Whether converting `unit` is a plain factor: not degC or degF (offset), not dB (log)."""
    pint = import_pint()

    try:
        return registry().Quantity(0.0, unit).to_base_units().magnitude == 0.0
    except ArithmeticError:  # a factor too large for a float, like ks^400: still a factor
        return True
    except pint.errors.PintError:
        return False


def _said(unit: pint.Unit) -> str:
    """A unit and its dimension for a message: `kg ([mass])`, or `dimensionless`."""
    text = pretty(unit)
    dims = registry().Quantity(1.0, unit).dimensionality
    return f"{text} ({dims})" if text and dims else "dimensionless"


def _combine(a: pint.Unit | None, b: pint.Unit | None, op: str) -> pint.Unit | None:
    if a is None and b is None:
        return None
    one = registry().dimensionless
    a, b = a or one, b or one
    return a * b if op == "*" else a / b


def to_json(expr: Lowered) -> dict:
    """A lowered expression as JSON, so a build directory can be verified on its own."""
    if isinstance(expr, Const):
        return {"const": expr.value}
    if isinstance(expr, Var):
        return {"var": expr.name}
    args = [to_json(expr.left)] + ([to_json(expr.right)] if expr.right is not None else [])
    return {"op": expr.op, "args": args}


def from_json(data: dict) -> Lowered:
    if "const" in data:
        return Const(float(data["const"]))
    if "var" in data:
        return Var(data["var"])
    args = [from_json(a) for a in data["args"]]
    return Op(data["op"], args[0], args[1] if len(args) > 1 else None)
