"""The model flavor interface: how one kind of model is saved to a folder and loaded back.

A flavor is a small object with a ``name`` and three methods. Register a new
one under the ``kiln.flavors`` entry-point group (``name = "pkg.module:Flavor"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Flavor(Protocol):
    """Saves and loads one kind of model. ``kiln.testing.check_flavor`` checks one."""

    name: str

    def handles(self, model: object) -> bool:
        """Whether this flavor knows how to save ``model`` (must not import heavy packages)."""
        ...

    def save(self, model: object, path: Path) -> dict[str, Any]:
        """Write the model's files into the existing folder ``path``; return flavor metadata."""
        ...

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        """Load the model saved in ``path``; the result has ``predict(data)``."""
        ...
