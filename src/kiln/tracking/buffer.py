"""Buffered metric writes: points are queued in memory and written in batches.

A batch is written when the run ends, when anything reads metrics back, when
the process exits normally, when the queue reaches ``max_points``, and by a
background thread every ``interval`` seconds. What a hard crash (SIGKILL, power
loss) can lose: the points logged in the last ``interval`` seconds (default 1 s).
"""

from __future__ import annotations

import atexit
import threading
import weakref
from typing import TYPE_CHECKING

from kiln.entities import Metric

if TYPE_CHECKING:
    from kiln.metadata.base import MetadataStore


class MetricBuffer:
    """Queues metric points for one store and writes them in batches."""

    def __init__(self, store: MetadataStore, interval: float = 1.0, max_points: int = 50_000):
        self._store = store
        self._interval = interval
        self._max_points = max_points
        # Raw (run_id, key, value, step, timestamp) tuples: cheaper to queue than records.
        self._points: list[tuple[str, str, float, int, int]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        _LIVE.add(self)

    def add(self, run_id: str, key: str, value: float, step: int, timestamp: int) -> None:
        with self._lock:
            self._points.append((run_id, key, value, step, timestamp))
            full = len(self._points) >= self._max_points
            if self._thread is None and not self._closed:
                self._start()
        if full:
            self.flush()

    def extend(self, run_id: str, metrics: list[Metric]) -> None:
        with self._lock:
            self._points.extend((run_id, m.key, m.value, m.step, m.timestamp) for m in metrics)
            full = len(self._points) >= self._max_points
            if self._thread is None and not self._closed:
                self._start()
        if full:
            self.flush()

    def flush(self) -> None:
        """Write every queued point now. On failure the points stay queued."""
        with self._write_lock:
            with self._lock:
                points, self._points = self._points, []
            if not points:
                return
            try:
                self._store.write_metrics([(p[0], Metric(*p[1:])) for p in points])
            except BaseException:
                with self._lock:
                    self._points[:0] = points
                raise

    def take(self) -> list[tuple[str, Metric]]:
        """Remove and return every queued point (give them back with :meth:`restore`)."""
        with self._write_lock, self._lock:
            points, self._points = self._points, []
        return [(p[0], Metric(*p[1:])) for p in points]

    def restore(self, points: list[tuple[str, Metric]]) -> None:
        """Queue points again that a failed write took out."""
        with self._lock:
            self._points[:0] = [(r, m.key, m.value, m.step, m.timestamp) for r, m in points]

    def pending(self) -> int:
        with self._lock:
            return len(self._points)

    def close(self) -> None:
        """Flush and stop the background thread."""
        self._closed = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.flush()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kiln-metric-flush", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            if self._closed:
                return
            try:
                self.flush()
            except Exception:
                continue


_LIVE: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for buffer in list(_LIVE):
        try:
            buffer.close()
        except Exception:
            continue
