"""The pipeline part of the metadata store on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.metadata.sql import SqlMetadataStore
from kiln.metadata.sql.engine import HEAD_REVISION
from kiln.testing.pipeline_store import PipelineStoreSuite


class TestSqlPipelineStore(PipelineStoreSuite):
    """Runs on SQLite and on PostgreSQL (the ``sql_store`` fixture is parametrized)."""

    @pytest.fixture
    def store(self, sql_store: SqlMetadataStore) -> SqlMetadataStore:
        return sql_store


def test_a_0001_database_is_upgraded(tmp_path: Path) -> None:
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from kiln.metadata.sql.engine import create_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__import__("kiln").metadata.__file__).parent
                                               / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    store = SqlMetadataStore(url)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == \
            HEAD_REVISION
    assert store.get_cached("0" * 64) is None
    store.close()
