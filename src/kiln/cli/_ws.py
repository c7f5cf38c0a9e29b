"""The workspace CLI commands act on, built from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiln.workspace import Workspace


def workspace() -> Workspace:
    from kiln.fluent import get_workspace

    return get_workspace()
