"""``AuditStoreSuite``: the behaviour every audit log backend must show.

Subclass it with a ``store`` fixture yielding a new, empty metadata store.
"""

from __future__ import annotations

import itertools
import threading

import pytest

from kiln.entities import RunStatus
from kiln.governance.audit import verify_chain
from kiln.metadata.base import MetadataStore


class AuditStoreSuite:
    """Conformance tests for :class:`kiln.metadata.base.AuditStore`."""

    @pytest.fixture
    def store(self) -> MetadataStore:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide a `store` fixture")

    def test_every_change_of_state_is_an_event(self, store: MetadataStore) -> None:
        exp = store.get_or_create_experiment("exp")
        run = store.create_run(exp.experiment_id, "r1", "alice", 1000, {})
        store.end_run(run.run_id, RunStatus.FINISHED, 2000)
        store.create_model_version("churn_clf", run_id=run.run_id, flavor="sklearn",
                                   artifact="a" * 64, signature=None, user="bob",
                                   created_at=3000)
        store.set_alias("churn_clf", "production", 1, "carol", 4000)
        store.delete_alias("churn_clf", "production", "dave", 5000)
        events = store.list_audit_events()
        assert [(e.seq, e.action, e.actor) for e in events] == [
            (1, "run.create", "alice"), (2, "run.end", "alice"),
            (3, "model_version.register", "bob"), (4, "alias.set", "carol"),
            (5, "alias.delete", "dave"),
        ]
        assert events[1].before == {"status": "RUNNING"}
        assert events[1].after is not None and events[1].after["status"] == "FINISHED"
        assert events[2].object_id == "churn_clf/1"
        assert events[3].before == {"alias": "production", "version": None}
        assert events[3].after == {"alias": "production", "version": 1}
        assert events[4].after is None
        assert events[0].prev_hash == "0" * 64
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
        assert store.audit_head() == (5, events[-1].hash)
        assert verify_chain(store).ok

    def test_filters_by_object_and_action(self, store: MetadataStore) -> None:
        for name in ("churn_clf", "churn_clf2"):
            store.create_model_version(name, run_id=None, flavor="sklearn", artifact="b" * 64,
                                       signature=None, user="u", created_at=1)
        store.set_alias("churn_clf", "prod", 1, "u", 2)
        store.append_audit_event("u", "model.approve", "model_version", "churn_clf/1", None,
                                 {"role": "risk"}, 3)
        ids = [e.object_id for e in store.list_audit_events(object_id="churn_clf")]
        assert ids == ["churn_clf/1", "churn_clf", "churn_clf/1"]
        approvals = store.list_audit_events(action="model.approve")
        assert [e.after for e in approvals] == [{"role": "risk"}]
        assert [e.seq for e in store.list_audit_events(after_seq=2, limit=1)] == [3]
        assert store.list_audit_events(object_kind="run") == []

    def test_failed_writes_append_nothing(self, store: MetadataStore) -> None:
        from kiln.exceptions import NotFoundError

        store.create_model_version("m", run_id=None, flavor="sklearn", artifact="c" * 64,
                                   signature=None, user="u", created_at=1)
        with pytest.raises(NotFoundError):
            store.set_alias("m", "prod", 9, "u", 2)
        with pytest.raises(NotFoundError):
            store.end_run("nope", RunStatus.FINISHED, 3)
        assert [e.action for e in store.list_audit_events()] == ["model_version.register"]

    def test_concurrent_writers_keep_one_chain(self, store: MetadataStore) -> None:
        exp = store.get_or_create_experiment("exp")
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                for j in range(5):
                    store.create_run(exp.experiment_id, f"r{i}-{j}", f"user{i}", j, {})
                    store.append_audit_event(f"user{i}", "test.event", "thing", str(i), None,
                                             {"j": j}, j)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        result = verify_chain(store)
        assert result.ok and result.checked == 40
