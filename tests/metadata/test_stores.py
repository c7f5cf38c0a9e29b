"""The metadata store conformance suite on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from kiln.metadata.sql import SqlMetadataStore
from kiln.testing import MetadataStoreSuite


class TestSqlStore(MetadataStoreSuite):
    """Runs on SQLite and on PostgreSQL (the ``sql_store`` fixture is parametrized)."""

    @pytest.fixture
    def store(self, sql_store: SqlMetadataStore) -> SqlMetadataStore:
        return sql_store
