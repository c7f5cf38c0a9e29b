"""What every router shares: the stores on ``app.state``, paging of lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Path, Query, Request
from pydantic import Field

if TYPE_CHECKING:
    from kiln.artifacts.base import ArtifactStore
    from kiln.metadata.sql import SqlMetadataStore
    from kiln.workspace import Workspace

T = TypeVar("T")
MAX_LIMIT = 10_000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=2**62, description="Items to skip.")]
#: An integer a database column holds (64-bit).
Int = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
#: A name in a path (dataset, deployment, feature view...).
Name = Annotated[str, Path(min_length=1, max_length=255)]
#: A version number in a path.
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: A time (ms since the epoch) in a query.
TimeMs = Annotated[int | None, Query(ge=-(2**62), le=2**62, description="ms since the epoch")]


def store(request: Request) -> SqlMetadataStore:
    """The server's metadata store."""
    s: SqlMetadataStore = request.app.state.store
    return s


def artifacts(request: Request) -> ArtifactStore:
    """The server's artifact store."""
    a: ArtifactStore = request.app.state.artifacts
    return a


def page(items: Sequence[T], limit: int, offset: int,
         encode: Callable[[T], Any]) -> dict[str, Any]:
    """One page of ``items``: ``{"items": [...], "next_offset": int | None}``."""
    chunk = items[offset : offset + limit]
    more = offset + limit < len(items)
    return {"items": [encode(i) for i in chunk], "next_offset": offset + limit if more else None}


def server_workspace(request: Request, user: str | None = None) -> Workspace:
    """A :class:`~kiln.workspace.Workspace` over the server's own stores, for the calls
    whose logic lives in the client (online lookups, deployment changes). With ``user``
    the workspace records writes under that name."""
    import dataclasses

    from kiln.workspace import Workspace

    state: Any = request.app.state
    shared: Workspace | None = getattr(state, "workspace", None)
    if shared is None:
        shared = Workspace.over(state.store, state.artifacts, state.settings)
        state.workspace = shared
    if user is None or user == shared.settings.user:
        return shared
    return Workspace.over(state.store, state.artifacts,
                          dataclasses.replace(shared.settings, user=user))
