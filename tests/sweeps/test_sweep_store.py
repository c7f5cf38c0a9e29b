"""The sweep journal conformance suite on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from kiln.metadata.sql import SqlMetadataStore
from kiln.testing import SweepStoreSuite


class TestSqlSweeps(SweepStoreSuite):
    @pytest.fixture
    def store(self, sql_store: SqlMetadataStore) -> SqlMetadataStore:
        return sql_store
