"""Where the grammar and the templates are, installed or in a source checkout.

The wheel carries them as `hadac/grammar` and `hadac/templates`; a source checkout keeps them
at the top of the repository, beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder `name` ("grammar" or "templates"), preferring the copy inside the package."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"hadac is installed without its {name}/ folder")
