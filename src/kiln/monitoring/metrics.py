"""Prometheus gauges of the latest window of each monitor, read from the store at scrape time
(no state in the process: any replica, or ``kiln monitor exporter``, shows the same figures).

Gauges: ``kiln_monitor_rows``, ``kiln_monitor_window_empty``,
``kiln_monitor_drift_share`` (share of drifted features), ``kiln_monitor_feature_drift``
and ``kiln_monitor_feature_drifted`` per feature, ``kiln_monitor_prediction_drift``,
``kiln_monitor_performance`` per metric, ``kiln_monitor_labelled_rows``,
``kiln_monitor_ab_p_value``, ``kiln_monitor_alerts`` (stored alerts).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.workspace import Workspace

log = logging.getLogger("kiln.monitoring")


class MonitorCollector:
    """A ``prometheus_client`` collector over the monitors of ``deployment`` (or all)."""

    def __init__(self, ws: Workspace, deployment: str | None = None) -> None:
        self.ws = ws
        self.deployment = deployment

    def describe(self) -> list[Any]:
        return []  # figures are read at scrape time; nothing to check at registration

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        g = {
            "rows": GaugeMetricFamily("kiln_monitor_rows", "Predicted rows in the latest "
                                      "window.", labels=["monitor", "deployment"]),
            "empty": GaugeMetricFamily("kiln_monitor_window_empty", "1 when the latest window "
                                       "had no traffic.", labels=["monitor", "deployment"]),
            "share": GaugeMetricFamily("kiln_monitor_drift_share", "Share of drifted features "
                                       "in the latest window.", labels=["monitor", "deployment"]),
            "stat": GaugeMetricFamily("kiln_monitor_feature_drift", "Drift statistic of a "
                                      "feature in the latest window.",
                                      labels=["monitor", "deployment", "feature", "test"]),
            "drifted": GaugeMetricFamily("kiln_monitor_feature_drifted", "1 when the feature "
                                         "drifted in the latest window.",
                                         labels=["monitor", "deployment", "feature"]),
            "pred": GaugeMetricFamily("kiln_monitor_prediction_drift", "1 when the predictions "
                                      "drifted in the latest window.",
                                      labels=["monitor", "deployment"]),
            "perf": GaugeMetricFamily("kiln_monitor_performance", "A performance figure on the "
                                      "labelled rows of the latest window.",
                                      labels=["monitor", "deployment", "metric"]),
            "labelled": GaugeMetricFamily("kiln_monitor_labelled_rows", "Rows with feedback in "
                                          "the latest window.", labels=["monitor", "deployment"]),
            "p": GaugeMetricFamily("kiln_monitor_ab_p_value", "p-value of the A/B test in the "
                                   "latest window.", labels=["monitor", "deployment"]),
            "alerts": GaugeMetricFamily("kiln_monitor_alerts", "Alerts stored for the monitor "
                                        "(last 1000).", labels=["monitor", "deployment"]),
        }
        try:
            self._fill(g)
        except Exception as exc:  # a scrape must not fail because the store blinked
            log.warning("monitor gauges unavailable: %s", exc)
        yield from g.values()

    def _fill(self, g: dict[str, Any]) -> None:
        store = self.ws.store
        for mon in store.list_monitors():
            if self.deployment is not None and mon.deployment != self.deployment:
                continue
            labels = [mon.name, mon.deployment]
            g["alerts"].add_metric(labels, len(store.list_alerts(mon.name)))
            latest = store.list_monitor_results(mon.name, limit=1)
            if not latest:
                continue
            res = latest[0]
            g["rows"].add_metric(labels, res.rows)
            g["empty"].add_metric(labels, 1.0 if res.status == "empty" else 0.0)
            data = res.data
            drift = data.get("drift") or {}
            if "share_of_drifted_features" in drift:
                g["share"].add_metric(labels, float(drift["share_of_drifted_features"]))
            for feature, col in (drift.get("columns") or {}).items():
                if isinstance(col.get("statistic"), int | float):
                    g["stat"].add_metric([*labels, feature, str(col.get("test", ""))],
                                         float(col["statistic"]))
                g["drifted"].add_metric([*labels, feature], 1.0 if col.get("drifted") else 0.0)
            if data.get("prediction_drift"):
                g["pred"].add_metric(labels, 1.0 if data["prediction_drift"].get("drifted")
                                     else 0.0)
            for metric, value in (data.get("performance") or {}).items():
                if isinstance(value, int | float) and not isinstance(value, bool) \
                        and metric != "n_labelled":
                    g["perf"].add_metric([*labels, metric], float(value))
            if "labelled" in data:
                g["labelled"].add_metric(labels, float(data["labelled"]))
            p = (data.get("ab") or {}).get("p_value")
            if isinstance(p, int | float):
                g["p"].add_metric(labels, float(p))


def register(registry: Any, ws: Workspace, deployment: str | None = None) -> MonitorCollector:
    """Add the monitor gauges to a ``prometheus_client`` registry."""
    collector = MonitorCollector(ws, deployment)
    registry.register(collector)
    return collector


def serve_exporter(ws: Workspace, port: int, addr: str = "127.0.0.1") -> Any:
    """Serve the gauges of every monitor on ``http://addr:port/metrics`` (a thread)."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    register(registry, ws)
    return start_http_server(port, addr, registry=registry)
