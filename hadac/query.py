"""A question to a build: which bounds hold, and what to optimise.

A build is a fixed program; a `Query` is everything a user may change between two solves of
it. The spec's own constraints and objective make the build's default query
(`Query.of_spec`); `hadac solve --constraint/--minimize/--drop-constraint`, `hadac pareto`
and the infeasibility explanation derive other queries from it, and `hadac.instance` turns
any of them into the data of one solve. A query names quantities of the build (targets, lets
and the spec's expressions); an expression the build does not have cannot be asked about
without compiling again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from hadac import ast
from hadac import inputs as inputs_
from hadac.errors import Diagnostic, HadacError, Reporter
from hadac.inputs import InputValue
from hadac.manifest import ConstraintRecord, Manifest, PairMargin, Written
from hadac.units import (
    Const,
    Op,
    Typer,
    evaluate,
    from_json,
    names_in,
    parse_unit,
    to_json,
    written_as,
)


@dataclass(frozen=True)
class Limit:
    """`quantity op bound`, with each pair's confidence margin added to the quantity."""

    quantity: str
    op: str  # "<=" or ">="
    bound: float
    text: str  # as written: "time <= 30 s"
    unit: str = ""
    line: int | None = None  # its line in the spec; None when it was given at solve time
    confidence: float | None = None
    margins: tuple[PairMargin, ...] = ()
    strict: bool = False  # `<` (or `>`): what `hadac pareto` asks to close a gap
    written: Written = Written()

    @classmethod
    def of_constraint(cls, record: ConstraintRecord) -> Limit:
        return cls(
            record.quantity,
            record.op,
            record.bound,
            " ".join(record.text.removeprefix("constraint ").split()),
            record.unit,
            record.line,
            record.confidence,
            record.margins,
            written=record.written,
        )

    def margin(self, algorithm: str, hardware: str) -> float:
        """The margin this limit adds on a pair (0 without a confidence)."""
        for row in self.margins:
            if (row.algorithm, row.hardware) == (algorithm, hardware):
                return row.margin
        return 0.0

    def limit(self, margin: float) -> float:
        """The bound the prediction itself must meet once `margin` is added to it."""
        return self.bound - margin if self.op == "<=" else self.bound + margin

    def holds(self, value: float, margin: float = 0.0) -> bool:
        """Whether a prediction meets the limit with its margin."""
        if self.op == "<=":
            return value + margin < self.bound if self.strict else value + margin <= self.bound
        return value - margin > self.bound if self.strict else value - margin >= self.bound

    def to_json(self) -> dict:
        return {
            "quantity": self.quantity,
            "op": self.op,
            "bound": self.bound,
            "unit": self.unit,
            "text": self.text,
            "line": self.line,
            "confidence": self.confidence,
            "strict": self.strict,
        }


@dataclass(frozen=True)
class ParamRange:
    """The values a param of an algorithm may take in one solve of a MIP model."""

    algorithm: str
    param: str
    low: float
    high: float


@dataclass(frozen=True)
class Objective:
    """Optimise a quantity; among its optima, `then` (if any) is optimised in the same sense."""

    quantity: str
    sense: str  # "minimize" or "maximize"
    text: str
    then: str | None = None

    def to_json(self) -> dict:
        return {"quantity": self.quantity, "sense": self.sense, "text": self.text}


@dataclass(frozen=True)
class Query:
    limits: tuple[Limit, ...] = ()
    objective: Objective | None = None
    inputs: tuple[InputValue, ...] = ()  # the instance's features, for a build that has any
    # the pairs (1-based, as the manifest lists them) the solver may choose; None: every one
    pairs: tuple[int, ...] | None = None
    # narrower ranges of params than their domains (a MIP model's solve of one pair)
    ranges: tuple[ParamRange, ...] = ()

    @classmethod
    def of_spec(cls, manifest: Manifest) -> Query:
        """The spec's own question: its constraints and its objective, at the inputs'
        defaults (an input without one must be given: `with_inputs`)."""
        goal = manifest.objective
        objective = Objective(goal.quantity, goal.sense, goal.text) if goal else None
        limits = tuple(Limit.of_constraint(c) for c in manifest.constraints)
        return cls(limits, objective, inputs_.defaults(manifest))

    def with_inputs(self, manifest: Manifest, given: list[InputValue]) -> Query:
        """This question for the instance `given` describes: every input given or
        defaulted, in the build's order, or an error naming each input without a value."""
        return dataclasses.replace(self, inputs=inputs_.resolve(manifest, given))

    def input_values(self) -> dict[str, float]:
        return {v.name: v.value for v in self.inputs}

    def to_json(self) -> dict:
        return {
            "constraints": [limit.to_json() for limit in self.limits],
            "objective": self.objective.to_json() if self.objective else None,
            "inputs": [v.to_json() for v in self.inputs],
        } | ({"pairs": list(self.pairs)} if self.pairs is not None else {})


@dataclass(frozen=True)
class Names:
    """What the parts of a what-if are called where the user wrote them: the command line's
    flags, or the fields of a Python call and of a `hadac serve` request, where each item of
    a list is named by its index. An error points at the name, so it says what to fix."""

    constraint: str
    drop: str
    minimize: str
    maximize: str
    indexed: bool

    def item(self, name: str, index: int) -> str:
        return f"{name}[{index}]" if self.indexed else name


FLAGS = Names("--constraint", "--drop-constraint", "--minimize", "--maximize", indexed=False)
FIELDS = Names("constraints", "drop_constraints", "minimize", "maximize", indexed=True)


def what_if(
    manifest: Manifest,
    base: Query,
    constraints: tuple[str, ...] = (),
    minimize: str | None = None,
    maximize: str | None = None,
    drop: tuple[str, ...] = (),
    names: Names = FLAGS,
) -> Query:
    """`base` changed as `hadac solve` options say, each parsed with the spec's grammar.

    A dropped constraint is named by its number (1 for the first of the spec) or its text.
    A constraint on a quantity and direction that `base` already bounds replaces that
    bound (its confidence margins stay); any other is added. An objective replaces the
    objective. Every error is a diagnostic at the flag or field it was given in (`names`).
    """
    if minimize is not None and maximize is not None:
        raise HadacError(
            Diagnostic(f"give {names.minimize} or {names.maximize}, not both", Path(names.maximize))
        )
    limits = list(base.limits)
    for index, name in enumerate(drop):
        limits.remove(_dropped(limits, name, names.item(names.drop, index)))
    for index, text in enumerate(constraints):
        new = parse_limit(manifest, text, names.item(names.constraint, index))
        same = next(
            (i for i, x in enumerate(limits) if (x.quantity, x.op) == (new.quantity, new.op)), None
        )
        if same is None:
            limits.append(new)
        else:
            old = limits[same]
            limits[same] = dataclasses.replace(
                old, bound=new.bound, text=new.text, line=None, written=new.written
            )
    objective = base.objective
    for sense, text, option in (
        ("minimize", minimize, names.minimize),
        ("maximize", maximize, names.maximize),
    ):
        if text is not None:
            objective = parse_objective(manifest, text, sense, option)
    return Query(tuple(limits), objective, base.inputs)


def _dropped(limits: list[Limit], name: str, option: str) -> Limit:
    """The limit a dropped constraint `name`, given as `option`, means: its number, or its
    text as written."""
    if name.strip().isdigit():
        number = int(name)
        if not 1 <= number <= len(limits):
            raise HadacError(
                Diagnostic(
                    f"there is no constraint {name}: there are {len(limits)} constraints,"
                    f" numbered 1 to {len(limits)}",
                    Path(option),
                )
            )
        return limits[number - 1]
    wanted = " ".join(name.removeprefix("constraint ").split())
    found = [x for x in limits if " ".join(x.text.split()) == wanted]
    if not found:
        listed = "; ".join(f"{i}: {x.text}" for i, x in enumerate(limits, start=1)) or "none"
        raise HadacError(
            Diagnostic(f"'{name}': no such constraint (they are {listed})", Path(option))
        )
    return found[0]


def _typer(manifest: Manifest, where: str, text: str) -> Typer:
    """A unit checker that knows the build's targets, attributes and lets."""
    units = {t.name: parse_unit(t.unit) for t in manifest.targets}
    units |= {name: parse_unit(unit) for name, unit in manifest.attribute_units.items()}
    typer = Typer(units, Reporter(Path(where), text))
    for let in manifest.lets:
        typer.lets[let.name] = (from_json(let.expr), parse_unit(let.unit) if let.unit else None)
    return typer


def _quantity_of(
    manifest: Manifest, expr, option: str, text: str, written: str, column: int
) -> str:
    """The build quantity whose expression is `expr`, or an error at `written` (which starts
    at `column` of `text`) saying to add a let."""
    wanted = to_json(expr)
    for q in manifest.quantities:
        if q.expr == wanted:
            return q.name
    known = ", ".join(q.name for q in manifest.quantities if q.kind != "expression")
    raise HadacError(
        Diagnostic(
            f"this build has no quantity '{written}'; bound or optimise a target or let"
            f" ({known}), or add `let NAME = ...` for it to the spec and compile again",
            Path(option),
            ast.Pos(1, column),
            len(written),
            "error",
            text,
        )
    )


def parse_limit(manifest: Manifest, text: str, option: str = "--constraint") -> Limit:
    """`time <= 10 s` as a limit on a quantity of the build, units checked and converted."""
    from hadac import parser  # lark, only for what a user types

    node = parser.parse_fragment(text, "bound", option)
    assert isinstance(node, ast.Constraint)
    typer = _typer(manifest, option, text)
    reporter = typer.reporter
    if node.op not in ("<=", ">="):
        reporter.error(node.op_pos, f"'{node.op}' is not supported; use <= or >=", len(node.op))
        reporter.raise_if_errors()
    if node.confidence is not None:
        reporter.error(
            node.confidence_pos,
            "a confidence is compiled into the build; put this constraint in the spec",
        )
        reporter.raise_if_errors()
    left, right = typer.lower(node.left), typer.lower(node.right)
    reporter.raise_if_errors()
    op, split = node.op, node.op_pos.column - 1
    side = (text[:split], 0)  # the bounded side's text and where it starts
    if not names_in(left[0]) and names_in(right[0]):  # `10 s >= time` is `time <= 10 s`
        left, right, op = right, left, "<=" if op == ">=" else ">="
        side = (text[split + len(node.op) :], split + len(node.op))
    joined = typer.join(left, right, node.op_pos, f"'{node.op}'")
    reporter.raise_if_errors()
    (lexpr, _), (rexpr, _) = joined
    constant_unit = right[1]
    if names_in(rexpr):
        lexpr, rexpr, side = Op("-", lexpr, rexpr), Const(0.0), (text, 0)
        constant_unit = None
    written, start = side
    column = start + len(written) - len(written.lstrip()) + 1
    quantity = _quantity_of(manifest, lexpr, option, text, written.strip(), column)
    record = manifest.quantity(quantity)
    stored = parse_unit(record.unit) if record.unit else None
    return Limit(
        quantity,
        op,
        float(evaluate(rexpr, {})),
        " ".join(text.split()),
        record.unit,
        written=written_as(stored, constant_unit),
    )


def parse_objective(
    manifest: Manifest, text: str, sense: str, option: str | None = None
) -> Objective:
    """`emissions` (or any expression the build has) as the objective, given as `option`
    (by default `--minimize` or `--maximize`)."""
    option = option or f"--{sense}"
    from hadac import parser  # lark, only for what a user types

    node = parser.parse_fragment(text, "expr", option)
    typer = _typer(manifest, option, text)
    lowered = typer.lower(node)
    typer.reporter.raise_if_errors()
    written = text.strip()
    column = len(text) - len(text.lstrip()) + 1
    quantity = _quantity_of(manifest, lowered[0], option, text, written, column)
    return Objective(quantity, sense, f"{sense} {' '.join(text.split())}")
