"""The default online store: one SQLite file (WAL), one connection per thread."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from kiln.exceptions import ConfigError

_CHUNK = 500  # keys per IN (...) query, well below SQLite's variable limit


class SqliteOnlineStore:
    """An :class:`~kiln.features.online.base.OnlineStore` in a SQLite file.

    >>> store = SqliteOnlineStore("sqlite:///:memory:")
    >>> store.write_batch("stats", [("1000", 5, b"payload")])
    >>> store.read("stats", ["1000", "1001"])
    [(5, b'payload'), None]
    """

    def __init__(self, url: str) -> None:
        if not url.startswith("sqlite:///"):
            raise ConfigError(f"online store URL {url!r} is not accepted; use sqlite:///PATH")
        self.url = url
        self.path = url.removeprefix("sqlite:///") or ":memory:"
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._memory: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        with self._lock:
            self._conn().execute(
                "CREATE TABLE IF NOT EXISTS kiln_online (view TEXT NOT NULL, key TEXT NOT NULL, "
                "ts INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (view, key)) WITHOUT ROWID"
            )

    def _conn(self) -> sqlite3.Connection:
        if self.path == ":memory:":  # one shared connection: each would be its own database
            if self._memory is None:
                self._memory = sqlite3.connect(":memory:", check_same_thread=False,
                                               isolation_level=None)
                self._all.append(self._memory)
            return self._memory
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(Path(self.path).expanduser()), timeout=60,
                                   check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
            self._all.append(conn)
        return conn

    def write_batch(self, view: str, rows: Sequence[tuple[str, int, bytes]]) -> None:
        if not rows:
            return
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO kiln_online (view, key, ts, value) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (view, key) DO UPDATE SET ts = excluded.ts, value = excluded.value "
                "WHERE excluded.ts >= kiln_online.ts",
                [(view, k, ts, v) for k, ts, v in rows],
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self, view: str, keys: Sequence[str]) -> list[tuple[int, bytes] | None]:
        conn = self._conn()
        found: dict[str, tuple[int, bytes]] = {}
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i:i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, ts, value in conn.execute(
                f"SELECT key, ts, value FROM kiln_online WHERE view = ? AND key IN ({marks})",
                (view, *chunk),
            ):
                found[key] = (ts, value)
        return [found.get(k) for k in keys]

    def drop_view(self, view: str) -> None:
        self._conn().execute("DELETE FROM kiln_online WHERE view = ?", (view,))

    def delete(self, view: str, keys: Sequence[str]) -> int:
        conn = self._conn()
        done = 0
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i:i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            done += conn.execute(f"DELETE FROM kiln_online WHERE view = ? AND key IN ({marks})",
                                 (view, *chunk)).rowcount
        return done

    def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._memory = None
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SqliteOnlineStore({self.url!r})"
