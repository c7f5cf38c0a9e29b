"""What every router shares: the stores on ``app.state``, paging of lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Query, Request

if TYPE_CHECKING:
    from kiln.artifacts.base import ArtifactStore
    from kiln.metadata.sql import SqlMetadataStore

T = TypeVar("T")
MAX_LIMIT = 10_000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]


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
