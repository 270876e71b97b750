"""The typed syntax tree of a `.hada` spec.

Every node carries the position of the text it came from, so that each later stage (checks,
fitting, encoding, solving) can point an error at the spec line that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column in a spec file."""

    line: int
    column: int


@dataclass(frozen=True)
class Quantity:
    """A number with an optional pint unit, as written: `0.50 EUR/h`, `5 min`, `8`."""

    value: float
    unit: str | None
    pos: Pos
    is_int: bool = False


@dataclass(frozen=True)
class Attribute:
    """`name = value` inside a hardware block; value is a quantity, a string or a string set."""

    name: str
    value: Quantity | str | tuple[str, ...]
    pos: Pos


@dataclass(frozen=True)
class Hardware:
    name: str
    attributes: tuple[Attribute, ...]
    pos: Pos

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True)
class Range:
    """`A..B`, both ends included."""

    low: float
    high: float
    pos: Pos


@dataclass(frozen=True)
class ValueSet:
    """`{v1, v2, ...}`."""

    values: tuple[float, ...]
    pos: Pos


@dataclass(frozen=True)
class LabelSet:
    """`{"lne", "tflite"}`: the names a str param takes, in the order written."""

    values: tuple[str, ...]
    pos: Pos
    positions: tuple[Pos, ...]  # of each string, quotes included


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "int", "float" or "str"
    domain: Range | ValueSet | LabelSet  # `{}` is an empty ValueSet
    pos: Pos


@dataclass(frozen=True)
class Input:
    """`input NAME: float in A..B default V`: an instance feature, a column of the data that
    the surrogates take after the params, whose value is given when solving."""

    name: str
    type: str  # "int" or "float"
    domain: Range | ValueSet  # only a range is valid; the checker says so of a set
    pos: Pos
    default: float | None = None
    default_pos: Pos | None = None


@dataclass(frozen=True)
class DataBinding:
    """`data HARDWARE = "file.csv"`: the benchmarks of the enclosing algorithm on HARDWARE;
    `data = "file.csv"` (hardware None): benchmarks that hold on every hardware of it, such
    as the quality of a setting, measured once."""

    hardware: str | None
    path: str
    pos: Pos
    path_pos: Pos


@dataclass(frozen=True)
class RunFunction:
    """`run = "module:function"`: what `hadac bench` calls for one run of the algorithm."""

    target: str
    pos: Pos  # of the string, quotes included


@dataclass(frozen=True)
class Instances:
    """`instances = 0..29` or `{0, 3, 7}`: the instance numbers a run is called with."""

    domain: Range | ValueSet
    pos: Pos


@dataclass(frozen=True)
class BenchSetting:
    """`name = value` inside a `bench { ... }` block; value is a number or a word."""

    name: str
    value: float | int | str
    pos: Pos
    value_pos: Pos
    value_text: str


@dataclass(frozen=True)
class BenchBlock:
    """`bench { design = grid; runs = N; repeats = R; seed = S }`."""

    settings: tuple[BenchSetting, ...]
    pos: Pos


BenchItem = RunFunction | Instances | BenchBlock


@dataclass(frozen=True)
class Algorithm:
    name: str
    params: tuple[Param, ...]
    data: tuple[DataBinding, ...]
    pos: Pos
    bench_items: tuple[BenchItem, ...] = ()  # run, instances and bench, in source order
    inputs: tuple[Input, ...] = ()


@dataclass(frozen=True)
class SurrogateArg:
    name: str
    value: float | str | tuple[float, ...]
    pos: Pos


@dataclass(frozen=True)
class Surrogate:
    """`tree(max_depth = 10)`: a surrogate kind and its arguments."""

    kind: str
    args: tuple[SurrogateArg, ...]
    pos: Pos


@dataclass(frozen=True)
class Target:
    """`target NAME = "COLUMN" in UNIT ~ SURROGATE`."""

    name: str
    column: str
    unit: str
    surrogate: Surrogate
    pos: Pos
    column_pos: Pos
    unit_pos: Pos


# ---- expressions ----


@dataclass(frozen=True)
class Ref:
    """A name in an expression: a target or a hardware attribute."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class Negate:
    operand: Expr
    pos: Pos


@dataclass(frozen=True)
class Binary:
    op: str  # one of + - * /
    left: Expr
    right: Expr
    pos: Pos


Expr = Quantity | Ref | Negate | Binary


@dataclass(frozen=True)
class Objective:
    sense: str  # "minimize" or "maximize"
    expr: Expr
    pos: Pos


@dataclass(frozen=True)
class Constraint:
    left: Expr
    op: str
    right: Expr
    pos: Pos
    op_pos: Pos
    confidence: float | None = None  # `with confidence 0.95`
    confidence_pos: Pos | None = None


@dataclass(frozen=True)
class Let:
    """`let NAME = EXPR`: a named expression, usable wherever an expression is."""

    name: str
    expr: Expr
    pos: Pos  # of the keyword, where the statement starts
    name_pos: Pos


@dataclass(frozen=True)
class SolverChoice:
    name: str
    pos: Pos


@dataclass
class Spec:
    """A whole spec file: its declarations in source order, grouped by kind."""

    path: Path
    source: str
    name: str | None = None
    hardware: list[Hardware] = field(default_factory=list)
    algorithms: list[Algorithm] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    solvers: list[SolverChoice] = field(default_factory=list)
    lets: list[Let] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The spec's name, or its file stem when it has no `spec` line."""
        return self.name or self.path.stem
