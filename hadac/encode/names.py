"""MiniZinc identifiers for names from a spec."""

from __future__ import annotations

# MiniZinc keywords and the models' own names, which spec names must not shadow.
_RESERVED = set(
    "ann annotation any array bool case constraint default diff div else elseif endif enum"
    " false float function if in include int intersect let list maximize minimize mod not of"
    " op opt output par predicate record set solve string subset superset symdiff test then"
    " true tuple type union var where xor config hardware algorithm pair run objective"
    " objective_scaled goal CONFIG HARDWARE ALGORITHM PAIR N_CONFIGS CONFIG_HARDWARE"
    " CONFIG_ALGORITHM".split()
)


def mzn_name(name: str) -> str:
    """A spec name as a MiniZinc identifier: itself unless reserved or `_`-led."""
    return f"{name}_" if name in _RESERVED or name.startswith("_") else name
