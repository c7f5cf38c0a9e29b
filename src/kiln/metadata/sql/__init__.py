"""The SQL metadata store: SQLite (default) and PostgreSQL through SQLAlchemy 2."""

from __future__ import annotations

from kiln.metadata.sql.auth import SqlAuth
from kiln.metadata.sql.engine import create_engine, migrate, redact
from kiln.metadata.sql.registry import SqlRegistry
from kiln.metadata.sql.tracking import SqlTracking


class SqlMetadataStore(SqlTracking, SqlRegistry, SqlAuth):
    """A :class:`~kiln.metadata.base.MetadataStore` on SQLite or PostgreSQL.

    The schema is migrated to the current revision on first use.

    >>> store = SqlMetadataStore("sqlite:///:memory:")
    >>> store.get_or_create_experiment("churn").name
    'churn'
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        migrate(self.engine)

    def __repr__(self) -> str:
        return f"SqlMetadataStore({redact(self.url)!r})"

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["SqlMetadataStore"]
