"""Conformance tests for :class:`kiln.metadata.base.PrivacyStore`."""

from __future__ import annotations

from typing import Any

from kiln.entities import Feedback, PredictionLogBatch
from kiln.metadata.base import PrivacyStore


class PrivacyStoreSuite:
    """Subclass with a ``store`` fixture (a store that also keeps prediction logs)."""

    def test_is_a_privacy_store(self, store: Any) -> None:
        assert isinstance(store, PrivacyStore)

    def test_a_rewritten_batch_replaces_the_old_one_in_the_index(self, store: Any) -> None:
        store.add_prediction_log(PredictionLogBatch("d", "a" * 64, 3, 10, 30, 1))
        store.add_prediction_log(PredictionLogBatch("d", "b" * 64, 2, 40, 50, 2))
        store.add_prediction_log(PredictionLogBatch("other", "a" * 64, 3, 10, 30, 3))
        new = PredictionLogBatch("d", "c" * 64, 2, 20, 30, 4)
        assert store.replace_prediction_log("d", "a" * 64, new) == 1
        assert [(b.artifact, b.rows, b.start_time) for b in store.list_prediction_logs("d")
                ] == [("c" * 64, 2, 20), ("b" * 64, 2, 40)]
        assert store.replace_prediction_log("d", "b" * 64, None) == 1
        assert [b.artifact for b in store.list_prediction_logs("d")] == ["c" * 64]
        assert [b.artifact for b in store.list_prediction_logs("other")] == ["a" * 64]
        assert store.replace_prediction_log("d", "f" * 64, None) == 0

    def test_feedback_of_requests_is_deleted(self, store: Any) -> None:
        store.add_feedback([Feedback(f"r{i}", "d", i, i) for i in range(3)])
        assert store.delete_feedback(["r0", "r2", "r9", "r0"]) == 2
        assert [f.request_id for f in store.get_feedback("d")] == ["r1"]
        assert store.delete_feedback([]) == 0
