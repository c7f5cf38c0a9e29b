"""The online-store interface: write a batch of rows, read rows by entity key.

A store keeps one opaque bytes value per ``(view, entity key)`` with its event
time in ms, and keeps the newer one when a write races an older row, so
materializing windows out of order never goes back in time. Encoding keys and
values is :mod:`kiln.features.online.codec`'s job, not the backend's.
``kiln.testing.OnlineStoreSuite`` checks a backend against this contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from kiln._plugins import load_plugin

ONLINE_STORES = {
    "sqlite": "kiln.features.online.sqlite:SqliteOnlineStore",
    "redis": "kiln.features.online.redis:RedisOnlineStore",
    "rediss": "kiln.features.online.redis:RedisOnlineStore",
}
ACCEPTED = "sqlite:///PATH or redis://HOST:PORT/DB (optionally ?prefix=...)"


@runtime_checkable
class OnlineStore(Protocol):
    """Latest feature rows per entity key, per feature view."""

    url: str

    def write_batch(self, view: str, rows: Sequence[tuple[str, int, bytes]]) -> None:
        """Store ``(key, event_ms, value)`` rows; an existing row with a newer event time
        is kept. The batch is applied as a whole or not at all."""
        ...

    def read(self, view: str, keys: Sequence[str]) -> list[tuple[int, bytes] | None]:
        """``(event_ms, value)`` for each key, in order; ``None`` where there is no row."""
        ...

    def drop_view(self, view: str) -> None:
        """Forget every row of ``view``."""
        ...

    def delete(self, view: str, keys: Sequence[str]) -> int:
        """Forget the rows of those keys (a data subject's); returns how many existed."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def open_online_store(url: str) -> OnlineStore:
    """Open the online store at ``url`` (``sqlite:///...``, ``redis://...``)."""
    from kiln.exceptions import ConfigError

    if "://" not in url:
        raise ConfigError(f"online store URL {url!r} is not accepted; use {ACCEPTED}")
    scheme = url.split("://", 1)[0].lower()
    cls = load_plugin("kiln.online_stores", ONLINE_STORES, scheme, what="online store scheme")
    store: OnlineStore = cls(url)
    return store
