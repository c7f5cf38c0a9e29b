"""Where a sweep's Optuna study lives: a journal in kiln's metadata database.

Optuna's ``RDBStorage`` cannot share kiln's database: both keep their schema
revision in the same ``alembic_version`` table. Optuna's journal storage
instead needs only "append entries" and "read entries from N", which kiln's
store provides on SQLite and PostgreSQL alike (``sweep_journal``); it is also
what Optuna recommends over SQLite's RDB storage when processes optimize in
parallel. Each sweep has a journal of its own holding exactly one study.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.exceptions import ConfigError

if TYPE_CHECKING:
    from optuna.storages import JournalStorage

    from kiln.metadata.base import SweepStore
    from kiln.workspace import Workspace


def sweep_store(source: Workspace | object) -> SweepStore:
    """The store of a workspace (or a store itself) as a
    :class:`~kiln.metadata.base.SweepStore`."""
    from kiln.metadata.base import SweepStore

    store = getattr(source, "store", source)
    if not isinstance(store, SweepStore):
        raise ConfigError(
            f"sweeps keep their study in a SQL metadata store; {type(store).__name__} is not "
            "one (set KILN_DB_URL to the database instead of KILN_SERVER)")
    return store


def _backend_class() -> type[Any]:
    from optuna.storages.journal import BaseJournalBackend

    class KilnJournalBackend(BaseJournalBackend):
        """Optuna journal entries of one sweep, in kiln's ``sweep_journal`` table."""

        def __init__(self, store: SweepStore, sweep: str) -> None:
            self.store = store
            self.sweep = sweep

        def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
            return [json.loads(e) for e in self.store.read_sweep_entries(self.sweep,
                                                                         log_number_from)]

        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            self.store.append_sweep_entries(self.sweep, [json.dumps(x) for x in logs],
                                            now_ms())

    return KilnJournalBackend


_storages: dict[tuple[int, str], JournalStorage] = {}
_lock = threading.Lock()


def journal_storage(source: Workspace | object, sweep: str) -> JournalStorage:
    """The Optuna storage of ``sweep`` in a workspace's store (or a store); one per store
    and sweep in a process, so each reads only the entries it has not seen yet."""
    from optuna.storages import JournalStorage

    store = sweep_store(source)
    key = (id(store), sweep)
    with _lock:
        storage = _storages.get(key)
        if storage is None:
            storage = _storages[key] = JournalStorage(_backend_class()(store, sweep))
        return storage
