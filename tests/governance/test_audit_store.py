"""The audit log conformance suite on SQLite and PostgreSQL, and tamper detection by hand-edits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from kiln.governance.audit import verify_chain
from kiln.metadata.sql import SqlMetadataStore
from kiln.testing import AuditStoreSuite


class TestSqlAudit(AuditStoreSuite):
    """Runs on SQLite and on PostgreSQL (the ``sql_store`` fixture is parametrized)."""

    @pytest.fixture
    def store(self, sql_store: SqlMetadataStore) -> SqlMetadataStore:
        return sql_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlMetadataStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'kiln.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    s = SqlMetadataStore(url)
    yield s
    s.close()


def _five_events(store: SqlMetadataStore) -> None:
    for i in range(5):
        store.append_audit_event("alice", "test.event", "thing", f"t{i}", None, {"i": i}, i)
    assert verify_chain(store).ok


def _sql(store: SqlMetadataStore, statement: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement))


def test_hand_edited_event_is_named(store: SqlMetadataStore) -> None:
    _five_events(store)
    _sql(store, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    result = verify_chain(store)
    assert not result.ok and result.bad_seq == 3
    assert "event #3 (test.event thing t2 by mallory) was edited" in result.message()


def test_rehashed_edit_breaks_the_next_link(store: SqlMetadataStore) -> None:
    _five_events(store)
    _sql(store, "UPDATE audit_events SET hash = 'f' || substr(hash, 2) WHERE seq = 2")
    result = verify_chain(store)
    assert (result.ok, result.bad_seq) == (False, 2)


def test_deleted_event_is_named(store: SqlMetadataStore) -> None:
    _five_events(store)
    _sql(store, "DELETE FROM audit_events WHERE seq = 2")
    result = verify_chain(store)
    assert (result.ok, result.bad_seq) == (False, 2)
    assert "is missing" in result.message()


def test_deleted_newest_event_is_named(store: SqlMetadataStore) -> None:
    _five_events(store)
    _sql(store, "DELETE FROM audit_events WHERE seq = 5")
    result = verify_chain(store)
    assert (result.ok, result.bad_seq) == (False, 5)
