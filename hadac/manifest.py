"""The build contract: what `manifest.json` holds, as typed records.

The compiler writes a `Manifest`, and everything that reads a build (solve, verify, pareto,
report, show) reads these records, never the JSON by string keys, so a field has one name
and one type everywhere. `to_json` and `from_json` map the records to the file and back;
`format_version` changes whenever the file's meaning does, and a build of another format is
refused rather than misread.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from hadac.numbers import plain

FORMAT_VERSION = 7

# Field names that the JSON spells differently (a Python name cannot hold a `-`).
_JSON_NAMES = {"scikit_learn": "scikit-learn"}


@dataclass(frozen=True)
class SpecRecord:
    name: str
    file: str
    path: str  # relative to the build directory
    sha256: str


@dataclass(frozen=True)
class DataRecord:
    algorithm: str
    hardware: str | None  # None: the algorithm's data for every hardware (`data = "file.csv"`)
    file: str  # relative to the spec's folder
    sha256: str
    rows: int


@dataclass(frozen=True)
class Versions:
    hadac: str
    python: str
    scikit_learn: str
    numpy: str


@dataclass(frozen=True)
class CpQuantity:
    """A quantity in the CP model's fixed point: `low <= scale * value <= high` on every
    configuration, and the least `low` and greatest `high` each pair can reach."""

    name: str
    scale: float
    pair_low: tuple[int, ...]
    pair_high: tuple[int, ...]


@dataclass(frozen=True)
class FlatZincRecord:
    """One solve item of the CP model flattened for a native FlatZinc solver with the
    query's data left free (`hadac.prepared`)."""

    file: str
    query: dict[str, tuple[str, ...]]  # each query datum's FlatZinc variables, in order
    sha256: str = ""


@dataclass(frozen=True)
class PreparedRecord:
    """The CP model flattened at compile time for one solver: a solve then skips
    MiniZinc's flattening, when that solver of the same version solves it."""

    solver: str
    version: str
    best: FlatZincRecord
    candidates: FlatZincRecord

    @property
    def files(self) -> tuple[FlatZincRecord, FlatZincRecord]:
        return (self.best, self.candidates)


@dataclass(frozen=True)
class CpRecord:
    """The CP model of a MIP build (`hadac.encode.cp`): the model, its two solve items
    (the best relaxed objective; every configuration under a cut) and its data."""

    file: str
    best: str
    candidates: str
    data: str
    relaxation: str  # the arrays narrowing reads of `data` (`hadac.propagate`), as .npz
    trees: int
    quantities: tuple[CpQuantity, ...]
    domains: dict[str, tuple[tuple[float, ...], ...]]  # per algorithm, each param's values
    sha256: dict[str, str] = field(default_factory=dict)  # by file name
    prepared: PreparedRecord | None = None  # flattened for the default CP solver, if native
    networks: int = 0  # ReLU networks among its surrogates (`hadac.encode.cpnet`)

    @property
    def files(self) -> tuple[str, ...]:
        return (self.file, self.best, self.candidates, self.data, self.relaxation)

    def quantity(self, name: str) -> CpQuantity:
        return next(q for q in self.quantities if q.name == name)


@dataclass(frozen=True)
class ModelRecord:
    """The fixed MiniZinc program and the files it reads."""

    file: str
    data: str
    shape: str  # "enumerated" or "mip"
    configurations: int | None
    tables: str | None = None  # enumerated: every quantity's value per configuration (.npz)
    sha256: str = ""
    data_sha256: str = ""
    tables_sha256: str | None = None
    cp: CpRecord | None = None  # a MIP build's model for CP solvers, when it has one
    cp_refused: str | None = None  # otherwise why CP solvers cannot take a MIP build


@dataclass(frozen=True)
class HardwareRecord:
    name: str
    attributes: dict[str, float]
    line: int
    declared: str  # the hardware as the spec declares it (an entry may be one of its locations)
    location: str | None


@dataclass(frozen=True)
class CarbonRecord:
    attribute: str
    unit: str
    source: str
    location: str | None  # `--location`, applied to every hardware


@dataclass(frozen=True)
class LetRecord:
    name: str
    text: str
    line: int
    unit: str
    expr: dict


@dataclass(frozen=True)
class PairRecord:
    algorithm: str
    hardware: str
    line: int
    configurations: tuple[int, int] | None  # enumerated: first and last configuration


@dataclass(frozen=True)
class ParamRecord:
    name: str
    type: str
    var: str  # the MiniZinc variable of its value
    array: str  # enumerated: its value per configuration
    low: float  # the least value of its domain (a str param's: 0, its first name's code)
    high: float  # the greatest
    # a str param's names; its variable and array hold their positions 0, 1, ...
    values: tuple[str, ...] | None = None

    def label(self, code: float) -> str:
        """A str param's name at position `code`."""
        assert self.values is not None
        return self.values[int(code)]

    def code(self, value: float | str) -> float:
        """The number the models hold for a value of this param: a name's position."""
        return float(self.values.index(value)) if self.values is not None else float(value)


@dataclass(frozen=True)
class InputRecord:
    """An instance feature given at each solve: its range, its default, the value the
    build's saved tables and quantity ranges were computed at, and who reads it."""

    name: str
    type: str
    low: float
    high: float
    default: float | None
    reference: float
    line: int
    var: str  # MIP model: the parameter that holds its value
    algorithms: tuple[str, ...]

    @property
    def text(self) -> str:
        """`float in 0..500`, as a person writes the range."""
        return f"{self.type} in {plain(self.low)}..{plain(self.high)}"


@dataclass(frozen=True)
class TargetRecord:
    name: str
    column: str
    unit: str
    kind: str
    var: str
    line: int


@dataclass(frozen=True)
class QuantityRecord:
    """A value the model can bound and optimise: a target, a let, or an expression of the
    spec's objective or constraints; each has a lower and an upper bound set by the query."""

    name: str
    kind: str  # "target", "let" or "expression"
    text: str
    line: int
    unit: str
    expr: dict  # lowered, in the stored units of targets and attributes
    var: str  # enumerated: its rank variable; MIP: its value variable
    low: float  # the least and greatest value the model gives it
    high: float
    distinct: int | None = None  # enumerated: how many distinct values (the top rank)


@dataclass(frozen=True)
class PairMargin:
    algorithm: str
    hardware: str
    margin: float


@dataclass(frozen=True)
class Written:
    """The unit a bound was written in, when it is not its quantity's stored unit, and the
    factor that takes a stored value into it: `emissions <= 1 mg` shows kg values in mg."""

    unit: str = ""
    scale: float = 1.0


@dataclass(frozen=True)
class ConstraintRecord:
    """A constraint of the spec, as the bound it puts on one quantity."""

    text: str
    line: int
    quantity: str
    op: str  # "<=" or ">="
    bound: float
    unit: str
    confidence: float | None = None
    margins: tuple[PairMargin, ...] = ()  # with a confidence: each pair's margin
    written: Written = Written()

    def margin(self, algorithm: str, hardware: str) -> float:
        """The margin this constraint adds on a pair (0 without a confidence)."""
        for row in self.margins:
            if (row.algorithm, row.hardware) == (algorithm, hardware):
                return row.margin
        return 0.0


@dataclass(frozen=True)
class ObjectiveRecord:
    sense: str  # "minimize" or "maximize"
    text: str
    line: int
    quantity: str
    unit: str


@dataclass(frozen=True)
class Holdout:
    r2: float | None
    mae: float | None


@dataclass(frozen=True)
class PredictorRecord:
    """A surrogate's numpy predictor (`hadac.predictors`): its estimator's numbers, and
    whether the compile found it equal to the estimator's `predict`, bit for bit, on every
    row it compared; only then does the verifier use it instead of the estimator."""

    file: str  # .npz, relative to the build
    exact: bool
    rows: int  # how many rows were compared
    sha256: str = ""


@dataclass(frozen=True)
class SurrogateRecord:
    algorithm: str
    hardware: str
    target: str
    column: str
    unit: str
    kind: str
    hyperparameters: dict[str, Any]
    inputs: tuple[str, ...]
    encoding: str
    size: dict[str, Any]
    rows: int
    holdout: Holdout
    model: str  # the fitted estimator, relative to the build
    line: int
    model_sha256: str = ""
    predictor: PredictorRecord | None = None  # None when its kind has none for the estimator
    # fitted once on the algorithm's hardware-independent data: the same model on every pair
    shared: bool = False
    # the least and greatest value its MIP encoding lets it take (None in an enumerated build)
    bounds: tuple[float, float] | None = None


@dataclass(frozen=True)
class Manifest:
    spec: SpecRecord
    data: tuple[DataRecord, ...]
    versions: Versions
    model: ModelRecord
    hardware: tuple[HardwareRecord, ...]
    carbon: CarbonRecord
    lets: tuple[LetRecord, ...]
    pairs: tuple[PairRecord, ...]
    params: dict[str, tuple[ParamRecord, ...]]  # by algorithm
    inputs: tuple[InputRecord, ...]  # each instance feature once, in the order first declared
    algorithm_inputs: dict[str, tuple[str, ...]]  # by algorithm: its inputs, in declared order
    targets: tuple[TargetRecord, ...]
    attribute_units: dict[str, str]
    quantities: tuple[QuantityRecord, ...]
    solver: str | None
    objective: ObjectiveRecord | None
    constraints: tuple[ConstraintRecord, ...]
    surrogates: tuple[SurrogateRecord, ...]
    warnings: tuple[str, ...] = ()
    format_version: int = field(default=FORMAT_VERSION)

    def quantity(self, name: str) -> QuantityRecord:
        return next(q for q in self.quantities if q.name == name)

    def input(self, name: str) -> InputRecord:
        return next(i for i in self.inputs if i.name == name)

    def hardware_entry(self, name: str) -> HardwareRecord:
        return next(h for h in self.hardware if h.name == name)

    def surrogate(self, algorithm: str, hardware: str, target: str) -> SurrogateRecord:
        return next(
            s
            for s in self.surrogates
            if (s.algorithm, s.hardware, s.target) == (algorithm, hardware, target)
        )

    def units(self) -> dict[str, str]:
        """The unit of every target and let, by name."""
        return {t.name: t.unit for t in self.targets} | {x.name: x.unit for x in self.lets}

    def to_json(self) -> dict:
        return _to_json(self)

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        """The manifest of a build's JSON; a field missing or of the wrong type raises
        `ValueError` naming it."""
        return _from_json(cls, data, "manifest")


def _to_json(value: object) -> object:
    if dataclasses.is_dataclass(value):
        return {
            _JSON_NAMES.get(f.name, f.name): _to_json(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    """A record's field types, evaluated once: each evaluation compiles every annotation,
    and a manifest holds a hundred records."""
    return typing.get_type_hints(kind)


def _from_json(kind: Any, data: object, where: str) -> Any:
    """`data` read as the type `kind`, recursively through records, tuples and dicts."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if data is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _from_json(inner, data, where)
    if dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object")
        hints = _hints(kind)
        values = {}
        for f in dataclasses.fields(kind):
            key = _JSON_NAMES.get(f.name, f.name)
            if key in data:
                values[f.name] = _from_json(hints[f.name], data[key], f"{where}.{key}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{where}: no field '{key}'")
        return kind(**values)
    if origin is tuple:
        args = typing.get_args(kind)
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise ValueError(f"{where}: expected {len(args)} items")
        pairs = enumerate(zip(args, data, strict=True))
        return tuple(_from_json(a, v, f"{where}[{i}]") for i, (a, v) in pairs)
    if origin is dict:
        _, value_kind = typing.get_args(kind)
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object")
        return {k: _from_json(value_kind, v, f"{where}.{k}") for k, v in data.items()}
    if kind is float:
        if not isinstance(data, int | float) or isinstance(data, bool):
            raise ValueError(f"{where}: expected a number")
        return float(data)
    if kind in (int, str, bool) and type(data) is not kind:
        raise ValueError(f"{where}: expected {kind.__name__}")
    return data
