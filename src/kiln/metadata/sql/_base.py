"""Shared plumbing of the SQL store: transactions, dialect-specific upserts, error mapping."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine


class SqlBase:
    """Holds the engine; subclasses (mixins) add the methods of each store part."""

    engine: Engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        # Each thread keeps one connection for writes: checking one out of the pool
        # for every small transaction costs more than the transaction itself.
        local = self.__dict__.setdefault("_writers", threading.local())
        conn: Connection | None = getattr(local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = local.conn = self.engine.connect()
            self.__dict__.setdefault("_writer_conns", []).append(conn)
        if conn.in_transaction():  # a nested write: join the open transaction
            yield conn
            return
        with conn.begin():
            yield conn

    def _close_writers(self) -> None:
        for conn in self.__dict__.pop("_writer_conns", []):
            conn.close()
        self.__dict__.pop("_writers", None)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(kiln_read_only=True) as conn:
            yield conn

    @staticmethod
    def _next_version(conn: Connection, parent: Table, versions: Table, name: str) -> int:
        """The next version number of ``name``, with the parent row locked so concurrent
        writers number versions in turn (PostgreSQL; SQLite's BEGIN IMMEDIATE already
        serializes writers). The parent row must exist."""
        from sqlalchemy import func, select

        conn.execute(select(parent.c.name).where(parent.c.name == name).with_for_update())
        latest = conn.execute(
            select(func.max(versions.c.version)).where(versions.c.name == name)
        ).scalar()
        return int(latest or 0) + 1

    def _insert(self, table: Table) -> Any:
        """A dialect insert, which offers ``on_conflict_do_update``/``do_nothing``."""
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)


class Prepared:
    """A statement compiled once for the engine's dialect and run on the raw DBAPI cursor.

    Used on the hot write paths (run creation, logging), where SQLAlchemy's
    per-execute compile-cache lookups cost more than SQLite's own work.
    Must run inside a transaction opened with ``SqlBase._write``.
    """

    def __init__(self, stmt: Any, dialect: Any, keys: list[str] | None = None) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=keys)
        self.sql = str(compiled)
        self.names: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional else None
        )

    def _row(self, values: dict[str, Any]) -> Any:
        return values if self.names is None else tuple(values[n] for n in self.names)

    def execute(self, conn: Connection, values: dict[str, Any]) -> Any:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self.sql, self._row(values))
        return cursor

    def executemany(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if rows:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(self.sql, [self._row(r) for r in rows])
