"""Where the grammar and the templates are, installed or in a source checkout.

The wheel carries them as `hadac/grammar` and `hadac/templates`; a source checkout keeps them
at the top of the repository, beside the package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder `name` ("grammar" or "templates"), preferring the copy inside the package."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"hadac is installed without its {name}/ folder")


def templates(filters: dict[str, Callable], html: bool = False) -> jinja2.Environment:
    """A Jinja environment on `templates/`: undefined names are errors, and escaping is on
    only for HTML, where it matters; models and runners keep their text as written."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource_dir("templates")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=html,
    )
    environment.filters.update(filters)
    return environment
