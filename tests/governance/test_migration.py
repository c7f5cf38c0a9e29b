"""A store created at revision 0001 (before governance) upgrades and starts its audit chain."""

from __future__ import annotations

from pathlib import Path

from kiln.governance.audit import verify_chain
from kiln.metadata.sql import SqlMetadataStore
from kiln.metadata.sql.engine import HEAD_REVISION, create_engine


def test_upgrade_from_0001_starts_an_empty_chain(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    import kiln.metadata.sql.engine as engine_module

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location",
                        str(Path(engine_module.__file__).parent.parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()

    store = SqlMetadataStore(url)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                HEAD_REVISION)
        assert store.audit_head() == (0, "0" * 64)
        exp = store.get_or_create_experiment("e")
        store.create_run(exp.experiment_id, "r", "alice", 1, {})
        result = verify_chain(store)
        assert result.ok and result.checked == 1
    finally:
        store.close()
