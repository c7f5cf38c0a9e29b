"""The serving store conformance suite on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.metadata.sql import SqlMetadataStore
from kiln.testing import ServingStoreSuite


class TestSqlServingStore(ServingStoreSuite):
    """Runs on SQLite and on PostgreSQL (the ``sql_store`` fixture is parametrized)."""

    @pytest.fixture
    def store(self, sql_store: SqlMetadataStore) -> SqlMetadataStore:
        return sql_store


def test_a_0001_database_is_upgraded_in_place(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    import kiln.metadata.sql.engine as engine_mod
    from kiln.entities import DeploymentSpec, Route

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = engine_mod.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location",
                        str(Path(engine_mod.__file__).parent.parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO experiments (name, created_at) VALUES ('old', 1)"))
    engine.dispose()
    store = SqlMetadataStore(url)
    try:
        assert [e.name for e in store.list_experiments()] == ["old"]
        spec = DeploymentSpec((Route("m", alias="production", weight=1),))
        store.add_deployment_version("d", spec, action="create", user="u", created_at=1,
                                     create=True)
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                engine_mod.HEAD_REVISION)
    finally:
        store.close()


def test_deployments_made_before_0003_can_still_change(tmp_path: Path) -> None:
    import json

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    import kiln.metadata.sql.engine as engine_mod
    from kiln.entities import DeploymentSpec, Route

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = engine_mod.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location",
                        str(Path(engine_mod.__file__).parent.parent / "migrations"))
    spec = DeploymentSpec((Route("m", alias="production", weight=1),))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002_server")
        conn.execute(text("INSERT INTO deployment_versions (name, version, spec, action, "
                          "\"user\", created_at, message) VALUES ('d', 1, :s, 'create', 'u', "
                          "5, '')"), {"s": json.dumps(spec.to_dict())})
    engine.dispose()
    store = SqlMetadataStore(url)
    try:
        d2 = store.add_deployment_version("d", spec, action="w", user="u", created_at=6,
                                          expected_version=1)
        assert d2.version == 2
    finally:
        store.close()
