"""Shared plumbing of the SQL store: transactions, dialect-specific upserts, error mapping."""

from __future__ import annotations

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
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(kiln_read_only=True) as conn:
            yield conn

    def _insert(self, table: Table) -> Any:
        """A dialect insert, which offers ``on_conflict_do_update``/``do_nothing``."""
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
