"""Alerts: rules fire on stored windows, with cool-down and de-duplication; sinks deliver
(a real local webhook, the log, a trigger event that an on_alert pipeline picks up)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from kiln.entities import Monitor
from kiln.exceptions import ConfigError, InvalidArgumentError, NotFoundError
from kiln.monitoring.alerts import evaluate_rules
from kiln.pipelines import on_alert, pipeline, step
from kiln.pipelines.scheduler import Scheduler
from kiln.workspace import Workspace


def _window(ws: Workspace, share: float, at: int, status: str = "ok") -> Any:
    data = {"drift": {"share_of_drifted_features": share}} if status == "ok" else {}
    result = ws.store.add_monitor_result("m", window_start=at - 10, window_end=at,
                                         status=status, rows=10, data=data, created_at=at)
    return evaluate_rules(ws, result, now=at)


@pytest.fixture
def monitored(ws: Workspace) -> Workspace:
    ws.store.create_monitor(Monitor("m", "churn", 1000, 1000))
    return ws


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def test_rule_fires_once_per_window_and_waits_for_the_cooldown(
        monitored: Workspace, webhook: tuple[str, list[dict[str, Any]]],
        caplog: pytest.LogCaptureFixture) -> None:
    ws = monitored
    url, received = webhook
    ws.add_alert_rule("m", "drift.share_of_drifted_features > 0.3", name="drift",
                      sinks=["log", f"webhook:{url}"], cooldown="1m")
    with caplog.at_level(logging.WARNING, logger="kiln.alerts"):
        assert _window(ws, 0.1, 1_000) == []
        fired = _window(ws, 0.5, 2_000)
    assert [(a.rule, a.value, a.window_seq) for a in fired] == [("drift", 0.5, 2)]
    assert fired[0].sinks["log"] == "logged" and fired[0].sinks[f"webhook:{url}"] == "sent (200)"
    assert "drift.share_of_drifted_features = 0.5" in caplog.text
    assert received[0]["alert"]["rule"] == "drift" and "kiln alert" in received[0]["text"]
    assert _window(ws, 0.6, 30_000) == []  # within the 1-minute cool-down
    assert _window(ws, 0.0, 40_000, status="empty") == []  # no traffic: never evaluated
    later = _window(ws, 0.6, 70_000)
    assert [a.window_seq for a in later] == [5]
    assert evaluate_rules(ws, ws.store.list_monitor_results("m")[-1], now=200_000) == []
    assert [a.window_seq for a in ws.list_alerts("m")] == [5, 2]
    edges = ws.store.edges_from("monitor_result", "m/2")
    assert [(e.dst_kind, e.relation) for e in edges] == [("alert", "raised")]


def test_for_n_windows_needs_consecutive_windows(monitored: Workspace) -> None:
    ws = monitored
    ws.add_alert_rule("m", "drift.share_of_drifted_features > 0.3 for 2 windows",
                      sinks=["log"])
    assert _window(ws, 0.5, 1_000) == []
    assert _window(ws, 0.1, 2_000) == []
    assert _window(ws, 0.5, 3_000) == []
    assert len(_window(ws, 0.5, 4_000)) == 1


def test_a_failing_webhook_does_not_stop_other_sinks(monitored: Workspace) -> None:
    ws = monitored
    ws.add_alert_rule("m", "drift.share_of_drifted_features > 0.3",
                      sinks=["webhook:http://127.0.0.1:9/nothing", "pipeline"])
    fired = _window(ws, 0.9, 1_000)
    assert fired[0].sinks["webhook:http://127.0.0.1:9/nothing"].startswith("failed")
    assert fired[0].event_id > 0 and fired[0].sinks["pipeline"] == f"event {fired[0].event_id}"


def test_bad_rules_and_sinks_are_refused_before_saving(monitored: Workspace) -> None:
    ws = monitored
    with pytest.raises(InvalidArgumentError, match=r"'>'"):
        ws.add_alert_rule("m", "drift.x >> 1")
    with pytest.raises(ConfigError, match=r"alert sink 'pager' is not known; accepted: .*log"):
        ws.add_alert_rule("m", "drift.x > 1", sinks=["pager"])
    with pytest.raises(InvalidArgumentError, match="webhook sink needs a URL"):
        ws.add_alert_rule("m", "drift.x > 1", sinks=["webhook"])
    with pytest.raises(NotFoundError, match="monitor 'ghost' does not exist"):
        ws.add_alert_rule("ghost", "drift.x > 1")
    assert ws.store.list_alert_rules() == []


ran: list[str] = []


@step(cache=False)
def remember(alert_event: str) -> str:
    ran.append(alert_event)
    return alert_event


@pipeline(triggers=[on_alert("m", param="alert_event")], cache=False)
def react(alert_event: str = "") -> None:
    remember(alert_event)


def test_pipeline_sink_starts_the_on_alert_pipeline_through_the_scheduler(
        monitored: Workspace) -> None:
    ws = monitored
    ran.clear()
    scheduler = Scheduler(ws, pipelines=[react], interval=1.0)
    assert scheduler.tick() == []  # first sight of the trigger: nothing before it fires
    ws.add_alert_rule("m", "drift.share_of_drifted_features > 0.3", sinks=["pipeline"])
    fired = _window(ws, 0.8, 1_000)
    done = scheduler.tick()
    assert [(f.fire_key, f.status) for f in done] == [(f"alert:{fired[0].event_id}",
                                                       "FINISHED")]
    assert ran == [str(fired[0].event_id)]
    assert scheduler.tick() == []  # fired once
