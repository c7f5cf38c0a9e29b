"""The SQL metadata store: SQLite (default) and PostgreSQL through SQLAlchemy 2."""

from __future__ import annotations

from kiln.metadata.sql.audit import SqlAudit
from kiln.metadata.sql.auth import SqlAuth
from kiln.metadata.sql.data import SqlData
from kiln.metadata.sql.engine import create_engine, migrate, redact
from kiln.metadata.sql.features import SqlFeatures
from kiln.metadata.sql.monitoring import SqlMonitoring
from kiln.metadata.sql.pipelines import SqlPipelines
from kiln.metadata.sql.privacy import SqlPrivacy
from kiln.metadata.sql.registry import SqlRegistry
from kiln.metadata.sql.serving import SqlServing
from kiln.metadata.sql.sweeps import SqlSweeps
from kiln.metadata.sql.tracking import SqlTracking


class SqlMetadataStore(
    SqlTracking, SqlRegistry, SqlData, SqlFeatures, SqlPipelines, SqlServing, SqlAudit, SqlAuth,
    SqlMonitoring,
    SqlSweeps,
    SqlPrivacy,
):
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
        self._init_tracking()

    def __repr__(self) -> str:
        return f"SqlMetadataStore({redact(self.url)!r})"

    def close(self) -> None:
        self._close_writers()
        self._close_hot()
        self.engine.dispose()


__all__ = ["SqlMetadataStore"]
