"""Shared fixtures: ephemeral workspaces and real PostgreSQL schemas."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import kiln
from kiln.metadata.sql import SqlMetadataStore
from kiln.workspace import Workspace

PG_BASE = os.environ.get("KILN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("KILN_REQUIRE_SERVICES") == "1"


def _service_missing(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({exc})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; KILN_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"kiln_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_BASE, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        _service_missing("PostgreSQL at 127.0.0.1:5432", exc)
    yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def ws() -> Iterator[Workspace]:
    """An ephemeral workspace, also used by the fluent API in this test."""
    workspace = Workspace.ephemeral()
    with kiln.use_workspace(workspace):
        yield workspace
    workspace.close()


@pytest.fixture
def pg_ws(postgres_url: str, tmp_path: object) -> Iterator[Workspace]:
    workspace = Workspace(db_url=postgres_url, artifacts_url=str(tmp_path))
    with kiln.use_workspace(workspace):
        yield workspace
    workspace.close()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                   ) -> None:
    """Never touch a real ./.kiln: the default workspace lives in a temp folder."""
    monkeypatch.setenv("KILN_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("KILN_DB_URL", raising=False)
    monkeypatch.delenv("KILN_ARTIFACTS_URL", raising=False)
    kiln.set_workspace(None)


REDIS_BASE = os.environ.get("KILN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL with a key prefix of its own; its keys are deleted afterwards."""
    import redis

    prefix = f"kiln-test-{uuid.uuid4().hex[:12]}:"
    client = redis.Redis.from_url(REDIS_BASE, socket_connect_timeout=5)
    try:
        client.ping()
    except Exception as exc:
        client.close()
        _service_missing("Redis at 127.0.0.1:6379", exc)
    yield f"{REDIS_BASE}?prefix={prefix}"
    keys = list(client.scan_iter(f"{prefix}*", 1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlMetadataStore]:
    """A new SQL metadata store, once on SQLite and once on PostgreSQL: every store
    conformance suite runs on both through this one fixture."""
    url = (f"sqlite:///{tmp_path / 'kiln.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    store = SqlMetadataStore(url)
    yield store
    store.close()


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    """A local Ray with 2 CPUs for the tests of one module, shut down after them."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
