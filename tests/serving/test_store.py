"""The serving store conformance suite on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiln.metadata.sql import SqlMetadataStore
from kiln.testing import ServingStoreSuite


class TestSqliteServingStore(ServingStoreSuite):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SqlMetadataStore]:
        s = SqlMetadataStore(f"sqlite:///{tmp_path / 'kiln.db'}")
        yield s
        s.close()


@pytest.mark.postgres
class TestPostgresServingStore(ServingStoreSuite):
    @pytest.fixture
    def store(self, postgres_url: str) -> Iterator[SqlMetadataStore]:
        s = SqlMetadataStore(postgres_url)
        yield s
        s.close()
