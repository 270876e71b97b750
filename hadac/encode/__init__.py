"""Encoders: turn fitted surrogates and the user's goal into a MiniZinc model and its data.

`tables` enumerates the configurations (an algorithm on a hardware with one value of each
param) and evaluates every surrogate on them; `render` writes the model from the Jinja
templates in `templates/`.
"""

from hadac.encode.render import render
from hadac.encode.tables import Quantity, Tables, build_tables

__all__ = ["Quantity", "Tables", "build_tables", "render"]
