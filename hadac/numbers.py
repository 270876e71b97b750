"""How hadac writes a number, for each reader: people, CSV files, models and their data.

One module, so that a figure reads the same in a table, a message, a CSV and a report.
"""

from __future__ import annotations

import math


def shown(value: float, digits: int = 6) -> str:
    """For people: `digits` significant digits (`24.0034`, `1.5e-07`)."""
    return f"{value:.{digits}g}"


def plain(value: float | str, digits: int = 6) -> str:
    """A param's value: whole numbers without a decimal point (`8`), others as `shown`, a
    str param's name as it is."""
    if isinstance(value, str):
        return value
    whole = float(value).is_integer() and abs(value) < 1e15
    return str(int(value)) if whole else shown(value, digits)


def kept(value: float) -> str:
    """For files a person may read back (CSV): 12 significant digits, every digit a
    measurement can carry and none of the binary noise of float arithmetic
    (24.0034, not 24.003400000000003)."""
    return shown(value, 12)


def exact(value: float) -> str:
    """In model text: Python's shortest round-trip form, the same double when read back."""
    return repr(float(value))


def positional(value: float) -> str:
    """In MiniZinc data: exact, without an exponent (MiniZinc 2.6 reads `5e-05` in JSON as
    a syntax error), so `0.00005` and `1000000000000000000000.0`."""
    import numpy as np  # not at the top: `hadac --help` needs no numpy

    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written as MiniZinc data")
    text = np.format_float_positional(float(value), unique=True, trim="0")
    return text if "." in text else text + ".0"
