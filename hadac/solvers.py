"""The solvers hadac offers: one table that the spec checks, the command line and the runtime
all read, so that adding or renaming a solver is one edit here.

A solver's family decides which model shapes it takes: MIP solvers take both the enumerated
and the MIP model, CP solvers the enumerated one and a MIP build's CP model, where it has
one (the MIP model itself needs float variables with linear constraints over them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hadac.errors import HadacError

if TYPE_CHECKING:
    from hadac.manifest import Manifest

Family = Literal["MIP", "CP"]


@dataclass(frozen=True)
class Solver:
    """One solver by the name a spec and `--solver` use."""

    name: str
    family: Family
    # The ids MiniZinc may list it under, tried in order: they differ between MiniZinc's
    # native builds and the bundled WebAssembly one.
    ids: tuple[str, ...]
    default: bool = False
    # Flags MiniZinc passes on when the solver takes a MIP-shape model (`--name value`).
    mip_flags: tuple[tuple[str, str], ...] = ()
    # Whether it takes the CP model of a ReLU network (`hadac.encode.cpnet`).
    networks: bool = True


# In the order the user sees them: the default first, then the other MIP, then the CP ones.
SOLVERS: tuple[Solver, ...] = (
    # Measured on the MIP model of specs/structure.hada: with its preprocessing on, COIN-BC
    # 2.10 returned worse configurations as OPTIMAL for some queries (maximize emissions
    # under time >= 16.4 s: 4.78e-4 kg, where one of 5.82e-4 kg meets every bound and the
    # same model finds it once its pair is fixed), another one for each scaling of the same
    # objective, and the right one once the set domain {1, 2, 4, 8, 16, 32} was widened to
    # 1..32. Without preprocessing it finds every optimum, in 1.5 to 8 times the time.
    Solver(
        "cbc",
        "MIP",
        ("org.minizinc.mip.coin-bc",),
        default=True,
        mip_flags=(("cbcArgs", "-preprocess off"),),
    ),
    # MiniZinc sets an integrality tolerance of 1e-8, which HiGHS also takes as its MIP
    # feasibility tolerance: so tight that on the MIP model of specs/structure.hada HiGHS
    # 1.15 proved worse configurations OPTIMAL for some random seeds (maximize memory under
    # emissions >= 2.2e-4 kg: 197.7 MB where 199.2 MB meets every bound), natively too.
    # With HiGHS's own default, 1e-6, it found the optimum on every seed tried.
    Solver("highs", "MIP", ("org.minizinc.mip.highs",), mip_flags=(("intTol", "1e-6"),)),
    Solver("gecode", "CP", ("org.gecode.gecode", "org.minizinc.gecode_presolver")),
    # The bundled Chuffed 0.14 fails ("memory access out of bounds") on the wide integer
    # sums of a network's CP model.
    Solver("chuffed", "CP", ("org.chuffed.chuffed", "org.minizinc.chuffed"), networks=False),
)

DEFAULT: str = next(s.name for s in SOLVERS if s.default)
# The solver of a MIP build with a CP model (`hadac.encode.cp`) whose spec names none, where
# it runs natively. Measured (docs/performance.md, "CP solvers on MIP builds"): Gecode proves
# the optimum in 1 to 2.4 s where COIN-BC takes 6 s, many minutes, or finds nothing in two.
CP_DEFAULT: str = "gecode"
# A CP model with ReLU networks is Gecode's on few configurations (3,200: under a second,
# where COIN-BC takes 40 s to minutes), not on many (705,894: neither proves an optimum in two
# minutes, and COIN-BC's answer was the better); the limit lies between, at the enumeration
# limit. Measured in docs/performance.md ("CP solvers on MIP builds", "Which shape").
NETWORK_CP_LIMIT: int = 100_000


def default_for(manifest: Manifest) -> str:
    """The solver of a build whose spec names none: `CP_DEFAULT` on a MIP build with a CP
    model where it runs natively (with networks, on at most `NETWORK_CP_LIMIT`
    configurations), else `DEFAULT`."""
    cp = manifest.model.cp
    if manifest.model.shape == "mip" and cp is not None:
        if cp.networks and _configurations(manifest) > NETWORK_CP_LIMIT:
            return DEFAULT
        from hadac import runtime

        # only its driver is asked: asking every one (the bundled) cost 0.24 s a solve
        if runtime.find(CP_DEFAULT).where == "native":
            return CP_DEFAULT
    return DEFAULT


def _configurations(manifest: Manifest) -> int:
    """How many configurations a MIP build with a CP model has: per pair, the product of
    its params' domain sizes."""
    domains = manifest.model.cp.domains
    return sum(math.prod(len(d) for d in domains[p.algorithm]) for p in manifest.pairs)


def names() -> tuple[str, ...]:
    """Every solver's name, in the order of `SOLVERS`."""
    return tuple(s.name for s in SOLVERS)


def get(name: str) -> Solver:
    """The solver called `name`; an unknown name is the user's error, so it names the valid
    ones."""
    for solver in SOLVERS:
        if solver.name == name:
            return solver
    raise HadacError(unknown(name))


def unknown(name: str) -> str:
    """The message for a name that is no solver: the spec checks report it at the spec's
    `solver` line, `get` raises it."""
    return f"unknown solver '{name}'; expected one of {', '.join(names())}"


def family(name: str) -> Family:
    """The family, "MIP" or "CP", of the solver called `name`."""
    return get(name).family


def of_family(wanted: Family) -> tuple[str, ...]:
    """The names of the solvers of one family, e.g. those that take the MIP model."""
    return tuple(s.name for s in SOLVERS if s.family == wanted)
