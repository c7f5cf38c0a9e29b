"""Prometheus gauges of the latest window, on the model server's /metrics and from
``kiln monitor exporter``'s HTTP server."""

from __future__ import annotations

import socket
import urllib.request
import warnings

import pytest
from monitor_data import churn_frame, numeric

from kiln.monitoring.demo import send_traffic
from kiln.monitoring.metrics import serve_exporter
from kiln.serving.app import ServingApp
from kiln.workspace import Workspace

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def _value(text: str, prefix: str) -> float:
    lines = [ln for ln in text.splitlines() if ln.startswith(prefix)]
    assert len(lines) == 1, (prefix, [ln for ln in text.splitlines() if "monitor" in ln])
    return float(lines[0].rsplit(" ", 1)[1])


@pytest.mark.slow
def test_gauges_show_the_latest_window(deployed: Workspace) -> None:
    ws = deployed
    ws.create_monitor("m", "churn", schedule=False)
    ws.add_alert_rule("m", "drift.share_of_drifted_features > 0.3", sinks=["log"])
    with TestClient(ServingApp(ws, "churn").app) as client:
        before = client.get("/metrics").text
    assert 'kiln_monitor_alerts{deployment="churn",monitor="m"} 0.0' in before
    assert "kiln_monitor_drift_share{" not in before  # no window yet: no figure
    frame = churn_frame(200, seed=5, shift=1.5)
    send_traffic(ws, "churn", numeric(frame), frame["churned"], 200)
    result = ws.run_monitor("m")
    with TestClient(ServingApp(ws, "churn").app) as client:
        text = client.get("/metrics").text
    labels = '{deployment="churn",monitor="m"}'
    assert _value(text, f"kiln_monitor_drift_share{labels}") == 1.0
    assert _value(text, f"kiln_monitor_rows{labels}") == 200
    assert _value(text, f"kiln_monitor_labelled_rows{labels}") == 200
    assert _value(text, f"kiln_monitor_alerts{labels}") == 1
    accuracy = result.data["performance"]["accuracy"]
    assert _value(text, 'kiln_monitor_performance{deployment="churn",metric="accuracy",'
                        'monitor="m"}') == accuracy
    assert _value(text, 'kiln_monitor_feature_drifted{deployment="churn",feature="age",'
                        'monitor="m"}') == 1.0
    test = result.data["drift"]["columns"]["age"]["test"]
    assert _value(text, f'kiln_monitor_feature_drift{{deployment="churn",feature="age",'
                        f'monitor="m",test="{test}"}}') > 0
    assert "kiln_requests_total" in text  # the server's own metrics are still there

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server, thread = serve_exporter(ws, port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            exported = resp.read().decode()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert _value(exported, f"kiln_monitor_drift_share{labels}") == 1.0
