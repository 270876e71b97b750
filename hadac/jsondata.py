"""MiniZinc data in MiniZinc's JSON format, written so that every solver driver reads it back
exactly.

Floats are written positionally (`hadac.numbers.positional`), since MiniZinc 2.6 reads a
JSON number with an exponent as a syntax error. Enum members are objects
`{"e": "hw_laptop"}`, as MiniZinc's JSON format defines; a list of equal-length lists is a
2-d array. Keys keep their insertion order, so the same data give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hadac.numbers import positional


@dataclass(frozen=True)
class Enum:
    """A member of a MiniZinc enum, by its identifier."""

    name: str


def _value(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return positional(float(value))
    if isinstance(value, Enum):
        return '{"e": "' + value.name + '"}'
    if isinstance(value, list | tuple) and all(type(v) is int for v in value):
        return "[" + ", ".join(map(str, value)) + "]"  # the long lists of a query: at once
    if isinstance(value, list | tuple | np.ndarray):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no MiniZinc data form for {type(value).__name__}")


def dumps(data: dict[str, object]) -> str:
    """The data as a JSON object, one parameter a line. MiniZinc refuses an empty object:
    with no data, pass no data file."""
    if not data:
        raise ValueError("MiniZinc reads no empty JSON data; pass no data file instead")
    lines = [f'  "{key}": {_value(value)}' for key, value in data.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"
