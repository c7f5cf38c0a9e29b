"""A local cache of file hashes keyed by path, size and modification time.

Re-adding a directory or checking its status re-hashes only the files whose
size or mtime changed since kiln last hashed them, as git's index does.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

Row = tuple[str, int, int, str]  # absolute path, size, mtime_ns, sha256


class StatCache:
    """``(path, size, mtime_ns) -> sha256`` in a small SQLite file (``KILN_HOME/cache``)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")  # a lost entry only costs a re-hash
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS stat (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
            "mtime_ns INTEGER NOT NULL, sha TEXT NOT NULL) WITHOUT ROWID"
        )

    def under(self, root: Path) -> dict[str, tuple[int, int, str]]:
        """Every cached entry for ``root`` itself or a file below it."""
        base = str(root)
        with self._lock:
            rows = self._db.execute(
                "SELECT path, size, mtime_ns, sha FROM stat WHERE path = ? OR "
                "(path >= ? AND path < ?)",
                (base, base + "/", base + "0"),  # "0" sorts right after "/"
            ).fetchall()
        return {p: (s, m, h) for p, s, m, h in rows}

    def update(self, rows: Iterable[Row]) -> None:
        """Record hashes just computed (one transaction)."""
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO stat VALUES (?, ?, ?, ?)", rows)

    def close(self) -> None:
        self._db.close()
