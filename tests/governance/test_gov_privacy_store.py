"""The privacy store methods on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from kiln.metadata.sql import SqlMetadataStore
from kiln.testing.privacy_store import PrivacyStoreSuite


class TestSqlPrivacyStore(PrivacyStoreSuite):
    @pytest.fixture
    def store(self, sql_store: SqlMetadataStore) -> SqlMetadataStore:
        return sql_store
