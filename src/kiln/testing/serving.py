"""``ServingStoreSuite``: the behaviour every store must show for deployments, the
prediction-log index and feedback. Subclass it and provide a ``store`` fixture."""

from __future__ import annotations

import threading

import pytest

from kiln.entities import CanaryPolicy, DeploymentSpec, Feedback, PredictionLogBatch, Route
from kiln.exceptions import ConflictError, NotFoundError
from kiln.metadata.base import MetadataStore

SPEC = DeploymentSpec(
    routes=(Route("clf", alias="production", weight=90), Route("clf", alias="challenger",
                                                                weight=10)),
    shadows=(Route("clf", version=3),),
    sticky_key="header:x-customer",
    canary=CanaryPolicy("clf@challenger", max_error_rate=0.1),
)


class ServingStoreSuite:
    """Conformance tests for :class:`kiln.metadata.base.ServingStore`."""

    @pytest.fixture
    def store(self) -> MetadataStore:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide a `store` fixture")

    def test_deployment_versions_keep_history(self, store: MetadataStore) -> None:
        d1 = store.add_deployment_version("churn", SPEC, action="create", user="alice",
                                          created_at=1000, create=True)
        assert (d1.version, d1.spec) == (1, SPEC)
        spec2 = DeploymentSpec((Route("clf", alias="production", weight=1),))
        d2 = store.add_deployment_version("churn", spec2, action="set-weights", user="bob",
                                          created_at=2000, message="all in")
        assert d2.version == 2
        assert store.get_deployment("churn") == d2
        assert store.get_deployment("churn", 1) == d1
        assert store.deployment_head("churn") == 2
        history = store.deployment_history("churn")
        assert [(d.version, d.action, d.user, d.created_at) for d in history] == [
            (1, "create", "alice", 1000), (2, "set-weights", "bob", 2000)]
        assert history[1].message == "all in"
        assert [d.name for d in store.list_deployments()] == ["churn"]
        assert store.list_deployments()[0].version == 2

    def test_create_twice_and_unknown_are_named(self, store: MetadataStore) -> None:
        store.add_deployment_version("churn", SPEC, action="create", user="a", created_at=1,
                                     create=True)
        with pytest.raises(ConflictError, match="'churn'"):
            store.add_deployment_version("churn", SPEC, action="create", user="a",
                                         created_at=2, create=True)
        for call in (lambda: store.get_deployment("nope"),
                     lambda: store.deployment_head("nope"),
                     lambda: store.deployment_history("nope"),
                     lambda: store.add_deployment_version("nope", SPEC, action="x", user="a",
                                                          created_at=1)):
            with pytest.raises(NotFoundError, match=r"'nope'.*'churn'"):
                call()
        with pytest.raises(NotFoundError, match="version 9"):
            store.get_deployment("churn", 9)

    def test_concurrent_changes_get_distinct_versions(self, store: MetadataStore) -> None:
        store.add_deployment_version("churn", SPEC, action="create", user="a", created_at=1,
                                     create=True)
        errors: list[Exception] = []

        def change() -> None:
            try:
                for _ in range(3):
                    store.add_deployment_version("churn", SPEC, action="w", user="a",
                                                 created_at=2)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=change) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        assert [d.version for d in store.deployment_history("churn")] == list(range(1, 14))

    def test_prediction_log_index(self, store: MetadataStore) -> None:
        for i, (t0, t1) in enumerate([(100, 200), (300, 400), (500, 600)]):
            store.add_prediction_log(PredictionLogBatch("churn", f"{i:064x}", 10, t0, t1, t1))
        store.add_prediction_log(PredictionLogBatch("other", "f" * 64, 5, 100, 600, 600))
        assert [b.start_time for b in store.list_prediction_logs("churn")] == [100, 300, 500]
        assert [b.start_time for b in store.list_prediction_logs("churn", 350, 550)] == [300,
                                                                                        500]
        assert store.list_prediction_logs("churn", 700) == []
        assert store.list_prediction_logs("nobody") == []

    def test_feedback_is_stored_and_replaced(self, store: MetadataStore) -> None:
        store.add_feedback([Feedback("r1", "churn", 1, 100), Feedback("r2", "churn", {"y": 0},
                                                                        200, {"note": "late"})])
        store.add_feedback([Feedback("r1", "churn", 0, 300)])
        rows = store.get_feedback("churn")
        assert [(f.request_id, f.label, f.timestamp) for f in rows] == [
            ("r2", {"y": 0}, 200), ("r1", 0, 300)]
        assert rows[0].extra == {"note": "late"}
        assert [f.request_id for f in store.get_feedback("churn", start=250)] == ["r1"]
        assert store.get_feedback("other") == []
        store.add_feedback([])

    def test_expected_version_is_a_compare_and_set(self, store: MetadataStore) -> None:
        store.add_deployment_version("churn", SPEC, action="create", user="a", created_at=1,
                                     create=True)
        d2 = store.add_deployment_version("churn", SPEC, action="w", user="a", created_at=2,
                                          expected_version=1)
        assert d2.version == 2
        with pytest.raises(ConflictError, match="at version 2, not 1"):
            store.add_deployment_version("churn", SPEC, action="w", user="b", created_at=3,
                                         expected_version=1)
        assert store.deployment_head("churn") == 2

    def test_concurrent_compare_and_set_lets_exactly_one_through(
            self, store: MetadataStore) -> None:
        store.add_deployment_version("churn", SPEC, action="create", user="a", created_at=1,
                                     create=True)
        outcomes: list[str] = []
        barrier = threading.Barrier(4)

        def change() -> None:
            barrier.wait()
            try:
                store.add_deployment_version("churn", SPEC, action="auto-rollback", user="a",
                                             created_at=2, expected_version=1)
                outcomes.append("written")
            except ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=change) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(outcomes) == ["conflict"] * 3 + ["written"]
        assert [d.action for d in store.deployment_history("churn")] == ["create",
                                                                         "auto-rollback"]
