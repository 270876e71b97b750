"""The solvers hadac offers: one table that the spec checks, the command line and the runtime
all read, so that adding or renaming a solver is one edit here.

A solver's family decides which model shapes it takes: MIP solvers take both the enumerated
and the MIP model, CP solvers only the enumerated one (the MIP model needs float variables
with linear constraints over them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hadac.errors import HadacError

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


# In the order the user sees them: the default first, then the other MIP, then the CP ones.
SOLVERS: tuple[Solver, ...] = (
    Solver("cbc", "MIP", ("org.minizinc.mip.coin-bc",), default=True),
    Solver("highs", "MIP", ("org.minizinc.mip.highs",)),
    Solver("gecode", "CP", ("org.gecode.gecode", "org.minizinc.gecode_presolver")),
    Solver("chuffed", "CP", ("org.chuffed.chuffed", "org.minizinc.chuffed")),
)

DEFAULT: str = next(s.name for s in SOLVERS if s.default)


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
