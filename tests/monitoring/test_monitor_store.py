"""The monitoring store conformance suite on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from kiln.metadata.sql import SqlMetadataStore
from kiln.testing import MonitoringStoreSuite


class TestSqlMonitoringStore(MonitoringStoreSuite):
    """Runs on SQLite and on PostgreSQL (the ``sql_store`` fixture is parametrized)."""

    @pytest.fixture
    def store(self, sql_store: SqlMetadataStore) -> SqlMetadataStore:
        return sql_store
