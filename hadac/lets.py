"""`let NAME = EXPR`: named expressions of targets, hardware attributes and earlier lets.

A let is checked and lowered once, where it is declared, and every use inlines its lowered
tree: the encoders, the manifest and the verifier only ever see targets, attributes and
constants, so a let costs nothing in the model and cannot drift from what it names. A let
may use only the lets above it, which rules out cycles by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hadac import ast, carbon
from hadac.errors import Reporter
from hadac.units import Lowered, Typer, pretty, to_json

if TYPE_CHECKING:
    import pint


@dataclass(frozen=True)
class LetInfo:
    """A checked let: its lowered expression in stored units, and the unit of its value."""

    name: str
    expr: Lowered
    unit: pint.Unit | None
    text: str
    line: int

    @property
    def unit_text(self) -> str:
        return pretty(self.unit)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "text": self.text,
            "line": self.line,
            "unit": self.unit_text,
            "expr": to_json(self.expr),
        }


def _refs(expr: ast.Expr) -> list[ast.Ref]:
    if isinstance(expr, ast.Ref):
        return [expr]
    if isinstance(expr, ast.Negate):
        return _refs(expr.operand)
    if isinstance(expr, ast.Binary):
        return _refs(expr.left) + _refs(expr.right)
    return []


def lower_lets(spec: ast.Spec, typer: Typer, reporter: Reporter) -> list[LetInfo]:
    """Lower every let in source order, adding each to `typer` for what follows."""
    declared = {let.name: let for let in reversed(spec.lets)}  # first declaration wins
    out: list[LetInfo] = []
    for index, let in enumerate(spec.lets):
        clash = _clash(let, typer, declared)
        if clash:
            reporter.error(let.name_pos, clash, len(let.name))
            continue
        later = [
            ref
            for ref in _refs(let.expr)
            if ref.name in declared and spec.lets.index(declared[ref.name]) >= index
        ]
        for ref in later:
            where = declared[ref.name].pos.line
            reporter.error(
                ref.pos,
                f"let '{ref.name}' is declared at line {where}, not above this use;"
                " a let can use only the lets declared above it",
                len(ref.name),
            )
        lowered = None if later else typer.lower(let.expr)
        if lowered is None:
            typer.invalid = typer.invalid | {let.name}
            continue
        expr, unit = lowered
        typer.lets[let.name] = (expr, unit)
        line = spec.source.split("\n")[let.pos.line - 1]
        text = " ".join(line[let.pos.column - 1 :].split("#")[0].split())
        out.append(LetInfo(let.name, expr, unit, text, let.pos.line))
    return out


def _clash(let: ast.Let, typer: Typer, declared: dict[str, ast.Let]) -> str | None:
    """Why `let.name` cannot be a let's name, or None."""
    if declared[let.name] is not let:
        first = declared[let.name].pos.line
        return f"duplicate let '{let.name}' (first declared at line {first})"
    if let.name in typer.units or let.name in typer.invalid or let.name == carbon.ATTRIBUTE:
        return f"let '{let.name}' has the name of a target or hardware attribute; rename it"
    return None
