"""Prometheus metrics of one server process (its own registry: several apps can coexist)."""

from __future__ import annotations

from typing import Any

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 10_000, 100_000)


class ServerMetrics:
    """Requests, errors and latency per route and model version; batch sizes; queue depth."""

    def __init__(self) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            disable_created_metrics,
        )

        disable_created_metrics()  # type: ignore[no-untyped-call]

        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("kiln_requests", "Requests answered, by route and status.",
                                ["deployment", "route", "model_version", "status"], registry=r)
        self.errors = Counter("kiln_errors", "Requests that failed, by kind of error.",
                              ["deployment", "kind", "status"], registry=r)
        self.latency = Histogram("kiln_request_latency_seconds",
                                 "Time from request to answer, by route and model version.",
                                 ["deployment", "route", "model_version"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("kiln_batch_size", "Rows per model call.",
                                    ["model", "model_version"], buckets=BATCH_BUCKETS,
                                    registry=r)
        self.queue_depth = Gauge("kiln_queue_depth", "Requests waiting for a model call.",
                                 ["model", "model_version"], registry=r)
        self.shadow = Counter("kiln_shadow_requests", "Copies of requests sent to shadows.",
                              ["deployment", "route", "model_version", "status"], registry=r)
        self.swaps = Counter("kiln_route_table_swaps", "Times new routes or versions went live.",
                             ["deployment"], registry=r)
        self.rollbacks = Counter("kiln_canary_rollbacks", "Automatic canary rollbacks.",
                                 ["deployment", "route"], registry=r)
        self.log_dropped = Gauge("kiln_prediction_log_dropped",
                                 "Log records dropped because the buffer was full.", registry=r)
        self.log_pending = Gauge("kiln_prediction_log_pending",
                                 "Log records waiting to be written.", registry=r)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def error(self, deployment: str, kind: str, status: int) -> None:
        self.errors.labels(deployment, kind, str(status)).inc()

    def __getstate__(self) -> dict[str, Any]:  # pragma: no cover - never pickled
        raise TypeError("ServerMetrics cannot be pickled")
