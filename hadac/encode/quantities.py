"""The quantities a build can bound and optimise without compiling again.

Every target and every let is one, and so is each expression of the spec's objective and
constraints that is neither: a query (`hadac.query`) may put a lower and an upper bound on
any of them and optimise any of them. Quantities with the same lowered expression are one
quantity, under the first name: a target's, else a let's, else a derived one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hadac.encode import names
from hadac.units import Lowered, Var, pretty, to_json

if TYPE_CHECKING:
    from hadac.problem import Bound, Goal, Problem


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str  # "target", "let" or "expression"
    expr: Lowered
    unit: str
    text: str
    line: int
    required: bool  # the spec's objective or a constraint uses it: it must be encodable
    needed_by: tuple[str, int] | None = None  # that statement's text and line, for errors

    @property
    def blame(self) -> tuple[str, int]:
        """The text and line an error about this quantity points at."""
        return self.needed_by or (self.text, self.line)


def definitions(problem: Problem) -> list[Definition]:
    """Targets, lets, then the objective's and constraints' own expressions, deduplicated."""
    out: list[Definition] = []
    seen: dict[str, int] = {}

    def add(definition: Definition) -> Definition:
        key = repr(to_json(definition.expr))
        if key in seen:
            kept = out[seen[key]]
            if definition.required and not kept.required:
                needed_by = (definition.text, definition.line)
                kept = dataclasses.replace(kept, required=True, needed_by=needed_by)
                out[seen[key]] = kept
            return kept
        seen[key] = len(out)
        out.append(definition)
        return definition

    for t in problem.targets:
        description = f'{t.name}: "{t.column}" in {t.unit_text} ~ {t.text}'
        add(Definition(t.name, "target", Var(t.name), t.unit_text, description, t.line, True))
    for let in problem.lets:
        add(Definition(let.name, "let", let.expr, let.unit_text, let.text, let.line, False))
    for statement, name in _statements(problem):
        add(
            Definition(
                names.derived(name),
                "expression",
                statement.expr,
                pretty(statement.unit),
                statement.text,
                statement.line,
                True,
            )
        )
    return out


def quantity_of(problem: Problem, definitions_: list[Definition], expr: Lowered) -> Definition:
    """The definition that holds `expr` (every objective and constraint has one)."""
    key = to_json(expr)
    return next(d for d in definitions_ if to_json(d.expr) == key)


def _statements(problem: Problem) -> list[tuple[Goal | Bound, str]]:
    goal = [(problem.goal, "objective")] if problem.goal is not None else []
    return goal + [(b, f"constraint_line_{b.line}") for b in problem.bounds]
