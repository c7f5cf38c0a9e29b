"""The feature registry suite on SQLite and PostgreSQL; the online store suite on SQLite
and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiln.features.online import open_online_store
from kiln.features.online.base import OnlineStore
from kiln.metadata.sql import SqlMetadataStore
from kiln.testing import FeatureRegistrySuite, OnlineStoreSuite


class TestSqlRegistry(FeatureRegistrySuite):
    """Runs on SQLite and on PostgreSQL (the ``sql_store`` fixture is parametrized)."""

    @pytest.fixture
    def store(self, sql_store: SqlMetadataStore) -> SqlMetadataStore:
        return sql_store


class TestSqliteOnlineStore(OnlineStoreSuite):
    @pytest.fixture
    def online_store(self, tmp_path: Path) -> Iterator[OnlineStore]:
        s = open_online_store(f"sqlite:///{tmp_path / 'online.db'}")
        yield s
        s.close()


class TestRedisOnlineStore(OnlineStoreSuite):
    @pytest.fixture
    def online_store(self, redis_url: str) -> Iterator[OnlineStore]:
        s = open_online_store(redis_url)
        yield s
        s.close()


def test_unknown_online_store_scheme_is_named() -> None:
    from kiln.exceptions import ConfigError

    with pytest.raises(ConfigError, match=r"'memcached'.*redis, rediss, sqlite"):
        open_online_store("memcached://x")
    with pytest.raises(ConfigError, match="'nonsense'"):
        open_online_store("nonsense")


def test_unreachable_redis_is_one_line() -> None:
    from kiln.exceptions import StoreUnavailableError

    store = open_online_store("redis://127.0.0.1:1/0")
    with pytest.raises(StoreUnavailableError, match="cannot reach online store"):
        store.read("v", ["1"])
