"""Prometheus metrics of a server: one registry per app, or, with several worker processes,
prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) so that ``/metrics``
on any worker answers the totals of all of them."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                   5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 10_000, 100_000)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The folder the worker processes share their metrics in, if there is one."""
    return os.environ.get(MULTIPROC_ENV) or None


class ServerMetrics:
    """Requests, errors and latency per route and model version; batch sizes; queue depth.

    Gauges whose value is read from the server (queue depth, log buffer) are ``track``-ed:
    read on every scrape in one process; in multiprocess mode ``sample()`` copies them into
    the shared files (the server calls it every second and before rendering)."""

    def __init__(self) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            disable_created_metrics,
        )

        disable_created_metrics()  # type: ignore[no-untyped-call]

        self.multiprocess = multiprocess_dir() is not None
        self._tracked: dict[tuple[Any, tuple[str, ...]], tuple[Any, Callable[[], float]]] = {}
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
                                 ["model", "model_version"], registry=r,
                                 multiprocess_mode="livesum")
        self.shadow = Counter("kiln_shadow_requests", "Copies of requests sent to shadows.",
                              ["deployment", "route", "model_version", "status"], registry=r)
        self.swaps = Counter("kiln_route_table_swaps", "Times new routes or versions went live.",
                             ["deployment"], registry=r)
        self.rollbacks = Counter("kiln_canary_rollbacks", "Automatic canary rollbacks.",
                                 ["deployment", "route"], registry=r)
        self.log_dropped = Gauge("kiln_prediction_log_dropped",
                                 "Log records dropped because the buffer was full.", registry=r,
                                 multiprocess_mode="livesum")
        self.log_pending = Gauge("kiln_prediction_log_pending",
                                 "Log records waiting to be written.", registry=r,
                                 multiprocess_mode="livesum")

    def track(self, gauge: Any, labels: tuple[str, ...], value: Callable[[], float]) -> None:
        """Report ``value()`` as ``gauge`` (with ``labels``) from now on."""
        child = gauge.labels(*labels) if labels else gauge
        if self.multiprocess:
            self._tracked[(gauge, labels)] = (child, value)
            child.set(value())
        else:
            child.set_function(value)

    def untrack(self, gauge: Any, labels: tuple[str, ...]) -> None:
        if self._tracked.pop((gauge, labels), None) is not None:
            gauge.labels(*labels).set(0)  # the shared file keeps the last value otherwise
        gauge.remove(*labels)

    def sample(self) -> None:
        """Copy the tracked gauges' current values into the shared files (multiprocess)."""
        for child, value in list(self._tracked.values()):
            child.set(value())

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if not self.multiprocess:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        self.sample()
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """This process is leaving: its live gauges no longer count (multiprocess)."""
        if self.multiprocess:
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def error(self, deployment: str, kind: str, status: int) -> None:
        self.errors.labels(deployment, kind, str(status)).inc()

    def __getstate__(self) -> dict[str, Any]:  # pragma: no cover - never pickled
        raise TypeError("ServerMetrics cannot be pickled")
