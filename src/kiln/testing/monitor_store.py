"""``MonitoringStoreSuite``: the behaviour every store must show for monitors, window
results, alert rules, alerts and reference profiles. Subclass it and provide ``store``."""

from __future__ import annotations

import math
import threading

import pytest

from kiln.entities import Alert, AlertRule, Monitor, ReferenceProfile
from kiln.exceptions import ConflictError, NotFoundError
from kiln.metadata.base import MetadataStore

MONITOR = Monitor("churn-drift", "churn", 3_600_000, 86_400_000,
                  {"features": ["age"], "ab": True}, "alice", 1000)


class MonitoringStoreSuite:
    """Conformance tests for :class:`kiln.metadata.base.MonitoringStore`."""

    @pytest.fixture
    def store(self) -> MetadataStore:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide a `store` fixture")

    def test_monitors_are_created_listed_and_named_when_missing(self, store: MetadataStore
                                                                ) -> None:
        assert store.create_monitor(MONITOR) == MONITOR
        assert store.get_monitor("churn-drift") == MONITOR
        with pytest.raises(ConflictError, match="'churn-drift'"):
            store.create_monitor(MONITOR)
        with pytest.raises(NotFoundError, match=r"'nope'.*'churn-drift'"):
            store.get_monitor("nope")
        other = Monitor("a-first", "x", 1, 2)
        store.create_monitor(other)
        assert [m.name for m in store.list_monitors()] == ["a-first", "churn-drift"]
        store.delete_monitor("a-first")
        assert [m.name for m in store.list_monitors()] == ["churn-drift"]
        with pytest.raises(NotFoundError, match="'a-first'"):
            store.delete_monitor("a-first")

    def test_window_results_are_numbered_and_keep_statistics(self, store: MetadataStore
                                                             ) -> None:
        store.create_monitor(MONITOR)
        data = {"drift": {"share_of_drifted_features": 0.5, "columns": {"age": {"p": 0.01}}},
                "nan": math.nan}
        r1 = store.add_monitor_result("churn-drift", window_start=0, window_end=10,
                                      status="ok", rows=5, data=data, created_at=10)
        r2 = store.add_monitor_result("churn-drift", window_start=10, window_end=20,
                                      status="empty", rows=0, data={}, created_at=20)
        assert (r1.seq, r2.seq) == (1, 2)
        results = store.list_monitor_results("churn-drift")
        assert [(r.seq, r.status, r.rows) for r in results] == [(1, "ok", 5), (2, "empty", 0)]
        assert results[0].data["drift"] == data["drift"]
        assert math.isnan(results[0].data["nan"])
        assert [r.seq for r in store.list_monitor_results("churn-drift", limit=1)] == [2]
        assert store.list_monitor_results("other") == []
        with pytest.raises(NotFoundError, match="'ghost'"):
            store.add_monitor_result("ghost", window_start=0, window_end=1, status="ok",
                                     rows=0, data={}, created_at=1)

    def test_concurrent_results_get_distinct_numbers(self, store: MetadataStore) -> None:
        store.create_monitor(MONITOR)
        errors: list[Exception] = []

        def write() -> None:
            try:
                for _ in range(3):
                    store.add_monitor_result("churn-drift", window_start=0, window_end=1,
                                             status="ok", rows=1, data={}, created_at=1)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        assert [r.seq for r in store.list_monitor_results("churn-drift")] == list(range(1, 13))

    def test_alert_rules_are_replaced_by_name(self, store: MetadataStore) -> None:
        store.create_monitor(MONITOR)
        rule = AlertRule("churn-drift", "drift", "drift.share_of_drifted_features > 0.3",
                         ("log", "webhook:http://x/y"), 60_000, 1)
        store.save_alert_rule(rule)
        store.save_alert_rule(AlertRule("churn-drift", "auc", "performance.roc_auc < 0.8"))
        changed = AlertRule("churn-drift", "drift", "drift.share_of_drifted_features > 0.5",
                            ("log",), 1000, 2)
        store.save_alert_rule(changed)
        rules = store.list_alert_rules("churn-drift")
        assert [r.name for r in rules] == ["auc", "drift"]
        assert rules[1] == changed
        assert store.list_alert_rules("other") == []
        store.delete_alert_rule("churn-drift", "auc")
        assert [r.name for r in store.list_alert_rules()] == ["drift"]
        with pytest.raises(NotFoundError, match=r"'auc'.*'drift'"):
            store.delete_alert_rule("churn-drift", "auc")
        with pytest.raises(NotFoundError, match="'ghost'"):
            store.save_alert_rule(AlertRule("ghost", "x", "drift.share_of_drifted_features > 0"))

    def test_alerts_are_stored_newest_first(self, store: MetadataStore) -> None:
        a = store.add_alert(Alert(0, "churn-drift", "drift", "drift.x > 1", 2.0, "x is 2", 3,
                                  100))
        b = store.add_alert(Alert(0, "churn-drift", "auc", "performance.auc < 1", None,
                                  "auc", 4, 200))
        assert a.alert_id != b.alert_id and a.alert_id > 0
        store.set_alert_delivery(a.alert_id, 7, {"log": "sent"})
        got = store.get_alert(a.alert_id)
        assert (got.event_id, got.sinks, got.value, got.window_seq) == (7, {"log": "sent"},
                                                                        2.0, 3)
        assert [x.alert_id for x in store.list_alerts("churn-drift")] == [b.alert_id,
                                                                         a.alert_id]
        assert [x.rule for x in store.list_alerts(rule="auc")] == ["auc"]
        assert len(store.list_alerts(limit=1)) == 1
        with pytest.raises(NotFoundError, match="alert 999999"):
            store.get_alert(999999)

    def test_reference_profiles_are_replaced(self, store: MetadataStore) -> None:
        assert store.get_reference_profile("clf", 1) is None
        store.set_reference_profile(ReferenceProfile("clf", 1, "a" * 64, "churn@1", 100, 1))
        store.set_reference_profile(ReferenceProfile("clf", 1, "b" * 64, "churn@2", 200, 2))
        got = store.get_reference_profile("clf", 1)
        assert got == ReferenceProfile("clf", 1, "b" * 64, "churn@2", 200, 2)
        assert store.get_reference_profile("clf", 2) is None
