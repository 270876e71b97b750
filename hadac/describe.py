"""What a study is about, for a person choosing what to ask it: `Study.describe()` and
`GET /api/studies/{name}`.

Everything comes from the build's manifest except the params' domains, which the build
encodes but does not list: they are read from the spec it was compiled from (a build is
opened only while its spec is unchanged, so the two agree).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import hadac.solvers as solver_table
from hadac import ast, parser
from hadac.builddir import BuildDir
from hadac.manifest import CpRecord, Manifest
from hadac.units import from_json, names_in


@dataclass(frozen=True)
class ParamInfo:
    """A hyperparameter: `int in 1..20` is low 1, high 20; `{1, 2, 4}` lists its values."""

    name: str
    type: str  # "int", "float" or "str"
    low: int | float | str  # a str param's first name
    high: int | float | str  # and its last
    values: tuple[int | float | str, ...] | None = None  # a set of values; None for a range


@dataclass(frozen=True)
class AlgorithmInfo:
    name: str
    params: tuple[ParamInfo, ...]
    hardware: tuple[str, ...]  # the declared hardware it has benchmarks on


@dataclass(frozen=True)
class InputInfo:
    """An instance feature a query gives: `float in 100..400 default 250`."""

    name: str
    type: str  # "int" or "float"
    low: float
    high: float
    default: float | None  # None: every query must give it
    algorithms: tuple[str, ...]  # the algorithms whose surrogates read it


@dataclass(frozen=True)
class QuantityInfo:
    """A target, let or expression of the spec that a query can bound or optimise, with the
    least and greatest value the build gives it (a bound's sensible range), and whether it
    changes with where the hardware runs (through its location's carbon intensity), so
    that asking at another location is worth it."""

    name: str
    kind: str  # "target", "let" or "expression"
    text: str
    unit: str
    low: float
    high: float
    by_location: bool


@dataclass(frozen=True)
class TargetInfo:
    name: str
    column: str  # in the benchmark CSVs
    unit: str
    surrogate: str  # its kind: tree, forest, boosted, linear, mlp
    # the algorithms whose surrogate of it is fitted once, on data every hardware shares
    shared_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class LetInfo:
    name: str
    text: str
    unit: str


@dataclass(frozen=True)
class ObjectiveInfo:
    sense: str  # "minimize" or "maximize"
    text: str
    quantity: str
    unit: str


@dataclass(frozen=True)
class ConstraintInfo:
    number: int  # what `drop_constraints` calls it: 1 is the spec's first
    text: str
    quantity: str
    op: str
    bound: float
    unit: str
    confidence: float | None


@dataclass(frozen=True)
class HardwareInfo:
    """One choosable hardware: a declared one, at one of its locations when it has several."""

    name: str
    declared: str
    location: str | None
    attributes: dict[str, float]  # in the units of `Description.attribute_units`


@dataclass(frozen=True)
class SolverInfo:
    """A solver that takes this build's model, and whether it runs on this machine."""

    name: str
    family: str
    available: bool
    where: str | None  # "native" or "bundled"


@dataclass(frozen=True)
class Summary:
    """A study in one line of `GET /api/studies`."""

    name: str
    file: str
    shape: str
    hardware: tuple[str, ...]
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class Description:
    name: str
    file: str
    build: str
    shape: str  # "enumerated" or "mip"
    configurations: int | None
    algorithms: tuple[AlgorithmInfo, ...]
    inputs: tuple[InputInfo, ...]
    targets: tuple[TargetInfo, ...]
    lets: tuple[LetInfo, ...]
    quantities: tuple[QuantityInfo, ...]
    objective: ObjectiveInfo | None
    constraints: tuple[ConstraintInfo, ...]
    hardware: tuple[HardwareInfo, ...]
    attribute_units: dict[str, str]
    location: str | None  # the location every hardware was put at, if any
    solver: str  # the one a solve uses unless told otherwise
    solvers: tuple[SolverInfo, ...]

    def summary(self) -> Summary:
        declared = tuple(dict.fromkeys(h.declared for h in self.hardware))
        algorithms = tuple(a.name for a in self.algorithms)
        return Summary(self.name, self.file, self.shape, declared, algorithms)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def describe(build: BuildDir, source: str) -> Description:
    """The description of a build compiled from the spec text `source`."""
    manifest = build.manifest
    spec = parser.parse(source, Path(manifest.spec.file))
    declared = {h.name: h.declared for h in manifest.hardware}
    algorithms = tuple(
        AlgorithmInfo(
            a.name,
            tuple(_param(p) for p in a.params),
            tuple(
                dict.fromkeys(declared[p.hardware] for p in manifest.pairs if p.algorithm == a.name)
            ),
        )
        for a in spec.algorithms
    )
    goal = manifest.objective
    return Description(
        manifest.spec.name,
        manifest.spec.file,
        str(build.directory),
        manifest.model.shape,
        manifest.model.configurations,
        algorithms,
        tuple(
            InputInfo(i.name, i.type, i.low, i.high, i.default, i.algorithms)
            for i in manifest.inputs
        ),
        tuple(
            TargetInfo(t.name, t.column, t.unit, t.kind, _shared_by(manifest, t.name))
            for t in manifest.targets
        ),
        tuple(LetInfo(x.name, x.text, x.unit) for x in manifest.lets),
        tuple(
            QuantityInfo(
                q.name,
                q.kind,
                q.text,
                q.unit,
                q.low,
                q.high,
                manifest.carbon.attribute in names_in(from_json(q.expr)),
            )
            for q in manifest.quantities
        ),
        ObjectiveInfo(goal.sense, goal.text, goal.quantity, goal.unit) if goal else None,
        tuple(
            ConstraintInfo(
                i,
                " ".join(c.text.removeprefix("constraint ").split()),
                c.quantity,
                c.op,
                c.bound,
                c.unit,
                c.confidence,
            )
            for i, c in enumerate(manifest.constraints, start=1)
        ),
        tuple(
            HardwareInfo(h.name, h.declared, h.location, dict(h.attributes))
            for h in manifest.hardware
        ),
        dict(manifest.attribute_units),
        manifest.carbon.location,
        manifest.solver or solver_table.default_for(manifest),
        _solvers(manifest.model.shape, manifest.model.cp),
    )


def _param(param: ast.Param) -> ParamInfo:
    domain = param.domain
    if isinstance(domain, ast.LabelSet):  # its names, in the order declared
        return ParamInfo(param.name, param.type, domain.values[0], domain.values[-1], domain.values)
    if isinstance(domain, ast.ValueSet):
        values = tuple(sorted(domain.values))
        return ParamInfo(param.name, param.type, values[0], values[-1], values)
    return ParamInfo(param.name, param.type, domain.low, domain.high)


def _solvers(shape: str, cp: CpRecord | None) -> tuple[SolverInfo, ...]:
    """The solvers that take a build: every one for an enumerated model or a MIP model with
    a CP model (but those that take no network, when it has one), else the MIP ones."""
    from hadac import runtime

    if shape == "enumerated" or cp is not None:
        networks = cp is not None and cp.networks > 0
        fitting = tuple(s.name for s in solver_table.SOLVERS if s.networks or not networks)
    else:
        fitting = solver_table.of_family("MIP")
    found = {info.name: info for info in runtime.solvers()}
    return tuple(
        SolverInfo(name, solver_table.family(name), found[name].available, found[name].where)
        for name in fitting
    )


def _shared_by(manifest: Manifest, target: str) -> tuple[str, ...]:
    """The algorithms, in spec order, whose `target` comes from hardware-independent data."""
    shared = {s.algorithm for s in manifest.surrogates if s.target == target and s.shared}
    return tuple(a for a in dict.fromkeys(p.algorithm for p in manifest.pairs) if a in shared)
