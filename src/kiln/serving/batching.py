"""Adaptive micro-batching: concurrent requests to one model version become one predict call.

A batcher never waits when it is the only request in flight (latency at concurrency 1
stays the raw model's); when other requests are being handled it waits up to
``max_wait_ms`` for them to join, up to ``max_batch_size`` rows. The queue is bounded:
past ``max_queue`` rows, ``submit`` raises :class:`QueueFullError` (HTTP 503).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

from kiln.exceptions import KilnError
from kiln.serving.inputs import Prepared


class QueueFullError(KilnError):
    """The model's request queue is full; retry later (HTTP 503 with Retry-After)."""


class ModelError(KilnError):
    """The model raised while predicting (HTTP 500); the message names the exception."""


class Batcher:
    """Merges :class:`Prepared` inputs into one call of ``predict(prepared_list)``.

    ``predict`` receives the merged model input and returns one output per row.
    """

    def __init__(
        self,
        predict: Callable[[Any], Any],
        merge: Callable[[list[Prepared]], Any],
        *,
        max_batch_size: int = 32,
        max_wait_ms: float = 2.0,
        max_queue: int = 2048,
        inflight: Callable[[], int] = lambda: 0,
        on_batch: Callable[[int], None] = lambda n: None,
    ) -> None:
        self._predict = predict
        self._merge = merge
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.max_queue = max_queue
        self._inflight = inflight
        self._on_batch = on_batch
        self._queue: deque[tuple[Prepared, asyncio.Future[Any]]] = deque()
        self.queued_rows = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def depth(self) -> int:
        return len(self._queue)

    async def submit(self, item: Prepared) -> Any:
        """Predictions for ``item``'s rows (an array of length ``item.n``)."""
        return await self.enqueue(item)

    def enqueue(self, item: Prepared) -> asyncio.Future[Any]:
        """Queue ``item``; the future gets its predictions (for callers that do not wait,
        like shadow copies: no task per request)."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():  # first use, or reused after close()
            self._closing = False
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        if self.queued_rows + item.n > self.max_queue and self._queue:
            raise QueueFullError(f"the queue holds {self.queued_rows} rows (limit "
                                 f"{self.max_queue}); retry later")
        fut: asyncio.Future[Any] = loop.create_future()
        self._queue.append((item, fut))
        self.queued_rows += item.n
        assert self._wake is not None
        self._wake.set()
        return fut

    def _take(self, batch: list[tuple[Prepared, asyncio.Future[Any]]], rows: int) -> int:
        while self._queue and (not batch or rows + self._queue[0][0].n <= self.max_batch_size):
            item = self._queue.popleft()
            batch.append(item)
            rows += item[0].n
            self.queued_rows -= item[0].n
        return rows

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await asyncio.sleep(0)  # let requests parsed in this loop turn join
            batch: list[tuple[Prepared, asyncio.Future[Any]]] = []
            rows = self._take(batch, 0)
            if (rows < self.max_batch_size and self.max_wait > 0
                    and self._inflight() > len(batch)):
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.max_wait)
                rows = self._take(batch, rows)
            self._on_batch(rows)
            self._execute(batch)

    def _execute(self, batch: list[tuple[Prepared, asyncio.Future[Any]]]) -> None:
        try:
            outputs = self._predict(self._merge([p for p, _ in batch]))
        except Exception as exc:
            if len(batch) > 1:  # find the request that breaks the model; serve the others
                for one in batch:
                    self._execute([one])
                return
            _settle(batch[0][1], error=ModelError(f"the model raised {type(exc).__name__}: "
                                                  f"{_first_line(exc)}"))
            return
        offset = 0
        for prepared, fut in batch:
            _settle(fut, result=outputs[offset:offset + prepared.n])
            offset += prepared.n

    async def close(self) -> None:
        """Finish what is queued, then stop."""
        self._closing = True
        if self._task is not None and self._wake is not None:
            self._wake.set()
            await self._task


def _settle(fut: asyncio.Future[Any], *, result: Any = None,
            error: Exception | None = None) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
