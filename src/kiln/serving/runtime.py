"""What a server process serves right now: the deployment's routes with their loaded models,
swapped atomically when the deployment or an alias moves (hot swap)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import Deployment, Route
from kiln.exceptions import ConflictError, KilnError, NotFoundError
from kiln.serving.batching import Batcher
from kiln.serving.inputs import InputError, Payload, Prepared, prepare
from kiln.serving.loading import load_model_for_serving, predict_array, takes_array
from kiln.serving.predlog import LogRecord, PredictionLogger
from kiln.serving.routing import CanaryWindow, WeightedChoice

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kiln.registry.model import LoadedModel
    from kiln.serving.metrics import ServerMetrics
    from kiln.workspace import Workspace

log = logging.getLogger("kiln.serving")


@dataclass(frozen=True)
class ServerOptions:
    """How a server batches, bounds and polls. Every field has a ``kiln serve`` flag."""

    max_batch_size: int = 32
    max_wait_ms: float = 2.0
    max_queue: int = 4096
    max_body_bytes: int = 32 * 1024 * 1024
    allow_nan: bool = False
    poll_seconds: float = 2.0
    log_predictions: bool = True
    log_buffer_rows: int = 200_000
    log_batch_rows: int = 20_000
    log_flush_seconds: float = 5.0


class NotReadyError(KilnError):
    """The server has not loaded its models yet (HTTP 503)."""


class ServedModel:
    """One loaded model version with its micro-batcher."""

    def __init__(self, name: str, version: int, model: LoadedModel, options: ServerOptions,
                 metrics: ServerMetrics, inflight: Any) -> None:
        self.name = name
        self.version = version
        self.model = model
        self.signature = model.signature
        self.columns = model.signature.input_columns if model.signature else []
        self.takes_array = takes_array(model, self.columns)
        batch_hist = metrics.batch_size.labels(name, str(version))
        self.batcher = Batcher(
            self._predict, self._merge, max_batch_size=options.max_batch_size,
            max_wait_ms=options.max_wait_ms, max_queue=options.max_queue,
            inflight=inflight, on_batch=batch_hist.observe,
        )
        metrics.track(metrics.queue_depth, (name, str(version)), lambda: self.batcher.depth)

    def _merge(self, items: list[Prepared]) -> Any:
        import numpy as np

        if all(p.matrix is not None for p in items):
            matrix = items[0].matrix if len(items) == 1 else np.vstack([p.matrix for p in items])
            if self.takes_array:
                return matrix
            import pandas as pd

            return pd.DataFrame(matrix, columns=self.columns, copy=False)
        import pandas as pd

        frames = [p.frame if p.frame is not None else
                  pd.DataFrame(p.matrix, columns=self.columns) for p in items]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def _predict(self, data: Any) -> Any:
        return predict_array(self.model, data)


@dataclass(frozen=True)
class ActiveRoute:
    route: Route
    served: ServedModel

    @property
    def target(self) -> str:
        return self.route.target


@dataclass(frozen=True)
class RouteTable:
    """An immutable snapshot; requests read ``runtime.table`` once, swaps replace it whole."""

    deployment: Deployment
    routes: tuple[ActiveRoute, ...]
    shadows: tuple[ActiveRoute, ...]
    chooser: WeightedChoice
    canary: CanaryWindow | None = None
    stamp: tuple[Any, ...] = field(default=())


class DeploymentRuntime:
    """Loads the deployment, routes requests, logs them, and follows changes."""

    def __init__(self, ws: Workspace, name: str, options: ServerOptions,
                 metrics: ServerMetrics) -> None:
        self.ws = ws
        self.name = name
        self.options = options
        self.metrics = metrics
        self.table: RouteTable | None = None
        self.inflight = 0
        self._models: dict[tuple[str, int], ServedModel] = {}
        self._shadow_tasks: set[asyncio.Task[None]] = set()
        self._pending_shadows = 0
        self._watch_task: asyncio.Task[None] | None = None
        self._refresh_lock = asyncio.Lock()
        self.logger: PredictionLogger | None = None
        if options.log_predictions:
            self.logger = PredictionLogger(
                ws.store, ws.artifacts, name, max_rows=options.log_buffer_rows,
                batch_rows=options.log_batch_rows, flush_seconds=options.log_flush_seconds)
            logger = self.logger
            metrics.track(metrics.log_dropped, (), lambda: logger.dropped)
            metrics.track(metrics.log_pending, (), lambda: logger.pending)

    # -- loading and hot swap -------------------------------------------------------------
    def _stamp(self, deployment_version: int, routes: tuple[Route, ...]) -> tuple[Any, ...]:
        return (deployment_version, *(self.ws.resolve_route(r) for r in routes))

    def _build(self) -> RouteTable:
        """Read the deployment and load every model it needs (runs in a worker thread)."""
        dep = self.ws.get_deployment(self.name)
        all_routes = (*dep.routes, *dep.shadows)
        stamp = self._stamp(dep.version, all_routes)
        served = [self._served(r.model, v) for r, v in zip(all_routes, stamp[1:], strict=True)]
        n = len(dep.routes)
        routes = tuple(ActiveRoute(r, s) for r, s in zip(dep.routes, served[:n], strict=True))
        shadows = tuple(ActiveRoute(r, s) for r, s in zip(dep.shadows, served[n:], strict=True))
        canary = CanaryWindow(dep.spec.canary) if dep.spec.canary else None
        if canary is not None and any(
            r.target == canary.policy.route and r.weight == 0 for r in dep.routes
        ):
            canary = None  # already rolled back
        return RouteTable(dep, routes, shadows, WeightedChoice([r.weight for r in dep.routes]),
                          canary, stamp)

    def _served(self, model: str, version: int) -> ServedModel:
        key = (model, version)
        if key not in self._models:
            loaded = load_model_for_serving(self.ws, f"models:/{model}/{version}")
            self._models[key] = ServedModel(model, version, loaded, self.options, self.metrics,
                                            lambda: self.inflight)
        return self._models[key]

    def _changed(self) -> bool:
        """A cheap check (one query per route) whether anything served has moved."""
        table = self.table
        if table is None:
            return True
        head = self.ws.store.deployment_head(self.name)
        if head != table.deployment.version:
            return True
        routes = (*table.deployment.routes, *table.deployment.shadows)
        return self._stamp(head, routes) != table.stamp

    async def refresh(self, force: bool = False) -> bool:
        """Load what changed in the background and switch to it; True if it switched."""
        async with self._refresh_lock:
            if not force and not await asyncio.to_thread(self._changed):
                return False
            table = await asyncio.to_thread(self._build)
            first = self.table is None
            self.table = table
            self.metrics.swaps.labels(self.name).inc()
            live = {(a.served.name, a.served.version) for a in (*table.routes, *table.shadows)}
            for key in [k for k in self._models if k not in live]:
                # requests holding the old table still finish: close() drains the queue
                self._spawn(self._models.pop(key).batcher.close())
                self.metrics.untrack(self.metrics.queue_depth, (key[0], str(key[1])))
            # a first load freezes at once (launch stays fast); a swap first frees what the
            # unloaded models leave in reference cycles
            _freeze_heap(collect=not first)
            log.info("deployment %s version %s live: %s", self.name, table.deployment.version,
                     ", ".join(f"{r.target}->v{r.served.version}" for r in table.routes))
            return True

    async def start(self) -> None:
        await self.refresh(force=True)
        if self.logger is not None:
            self.logger.start()
        self._watch_task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        poll = self.options.poll_seconds
        # with shared (multiprocess) metrics, gauges are copied out every second
        tick = min(poll, 1.0) if self.metrics.multiprocess else poll
        next_poll = time.monotonic() + poll
        while True:
            await asyncio.sleep(tick)
            self.metrics.sample()
            if time.monotonic() < next_poll:
                continue
            next_poll = time.monotonic() + poll
            try:
                await self.refresh()
            except Exception as exc:  # keep serving the current table
                log.warning("deployment %s: refresh failed: %s", self.name, exc)

    async def stop(self) -> None:
        """Stop watching, finish shadow calls and queued batches, flush the prediction log."""
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        if self._shadow_tasks:
            await asyncio.gather(*self._shadow_tasks, return_exceptions=True)
        for served in list(self._models.values()):
            await served.batcher.close()
        for _ in range(10_000):  # settled shadow futures log from callbacks: let them run
            if not self._pending_shadows:
                break
            await asyncio.sleep(0)
        if self.logger is not None:
            await asyncio.to_thread(self.logger.close)
        self.metrics.close()

    # -- serving ------------------------------------------------------------------------
    def _key(self, table: RouteTable, payload: Payload, headers: Mapping[str, str]
             ) -> str | None:
        sticky = table.deployment.spec.sticky_key
        if sticky is None:
            return None
        kind, _, name = sticky.partition(":")
        value = headers.get(name) if kind == "header" else payload.key_value(name)
        return None if value is None else str(value)

    async def infer(self, payload: Payload, headers: Mapping[str, str], request_id: str
                    ) -> tuple[ActiveRoute, Any, int]:
        """Route, check, predict, log. Returns the route, the predictions and the
        deployment version that served them."""
        table = self.table
        if table is None:
            raise NotReadyError("the server is still loading its models; retry shortly")
        start = time.perf_counter()
        active = table.routes[table.chooser.choose(self._key(table, payload, headers))]
        served = active.served
        status, outputs, prepared = 200, None, None
        try:
            prepared = prepare(payload, served.signature, allow_nan=self.options.allow_nan)
            outputs = await served.batcher.submit(prepared)
            return active, outputs, table.deployment.version
        except InputError:
            status = 422
            raise
        except Exception:
            status = 500
            raise
        finally:
            latency = time.perf_counter() - start
            version = str(served.version)
            self.metrics.requests.labels(self.name, active.target, version, str(status)).inc()
            self.metrics.latency.labels(self.name, active.target, version).observe(latency)
            if self.logger is not None:
                self.logger.log(LogRecord(
                    request_id, now_ms(), self.name, table.deployment.version, active.target,
                    served.name, served.version, False, status, latency * 1000,
                    payload.as_json(), outputs))
            if table.canary is not None and active.target == table.canary.policy.route:
                reason = table.canary.record(status == 200, latency * 1000)
                if reason is not None:
                    self._spawn(self._rollback(table, reason))
            for shadow in table.shadows:
                if shadow.served.batcher.queued_rows >= self.options.max_queue // 2:
                    self.metrics.shadow.labels(self.name, shadow.target,
                                               str(shadow.served.version), "dropped").inc()
                elif status == 200 and (shadow.served.signature is served.signature
                                        or shadow.served.signature == served.signature):
                    # the checked input fits: queue it, log from the future's callback
                    assert prepared is not None
                    self._shadow_now(table, shadow, payload, request_id, prepared)
                else:  # another signature: check the input again, in a task
                    self._spawn(self._shadow(table, shadow, payload, request_id, None))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._shadow_tasks.add(task)
        task.add_done_callback(self._shadow_tasks.discard)

    def _shadow_now(self, table: RouteTable, shadow: ActiveRoute, payload: Payload,
                    request_id: str, prepared: Prepared) -> None:
        start = time.perf_counter()
        try:
            fut = shadow.served.batcher.enqueue(prepared)
        except Exception:
            self._shadow_done(table, shadow, payload, request_id, start, 503, None)
            return
        self._pending_shadows += 1

        def done(f: asyncio.Future[Any]) -> None:
            self._pending_shadows -= 1
            error = f.exception()
            self._shadow_done(table, shadow, payload, request_id, start,
                              200 if error is None else 500,
                              None if error is not None else f.result())

        fut.add_done_callback(done)

    def _shadow_done(self, table: RouteTable, shadow: ActiveRoute, payload: Payload,
                     request_id: str, start: float, status: int, outputs: Any) -> None:
        latency = time.perf_counter() - start
        self.metrics.shadow.labels(self.name, shadow.target, str(shadow.served.version),
                                   str(status)).inc()
        if self.logger is not None:
            self.logger.log(LogRecord(
                request_id, now_ms(), self.name, table.deployment.version, shadow.target,
                shadow.served.name, shadow.served.version, True, status, latency * 1000,
                payload.as_json(), outputs))

    async def _shadow(self, table: RouteTable, shadow: ActiveRoute, payload: Payload,
                      request_id: str, prepared: Prepared | None) -> None:
        start = time.perf_counter()
        status, outputs = 200, None
        try:
            if prepared is None:  # another signature than the primary's: check again
                prepared = prepare(payload, shadow.served.signature,
                                   allow_nan=self.options.allow_nan)
            outputs = await shadow.served.batcher.submit(prepared)
        except InputError:
            status = 422
        except Exception:
            status = 500
        self._shadow_done(table, shadow, payload, request_id, start, status, outputs)

    async def _rollback(self, table: RouteTable, reason: str) -> None:
        from kiln.serving.spec import with_weights

        assert table.canary is not None
        route = table.canary.policy.route
        log.warning("deployment %s: rolling canary %s back: %s", self.name, route, reason)
        try:
            # Only on top of the version this decision was made on: with several workers
            # (or replicas) each sees the canary fail, and the first write wins; the others
            # get a conflict and pick up the new version instead of rolling back again.
            spec = with_weights(table.deployment.spec, {route: 0.0})
            await asyncio.to_thread(self.ws.update_deployment, self.name, spec,
                                    "auto-rollback", f"canary {route}: {reason}",
                                    expected_version=table.deployment.version)
            self.metrics.rollbacks.labels(self.name, route).inc()
        except ConflictError:
            log.info("deployment %s changed since version %s; not rolling back again",
                     self.name, table.deployment.version)
        except Exception as exc:
            log.error("deployment %s: canary rollback failed: %s", self.name, exc)
            return
        try:
            await self.refresh(force=True)
        except Exception as exc:  # the watch loop tries again
            log.warning("deployment %s: refresh after rollback failed: %s", self.name, exc)


def _freeze_heap(*, collect: bool) -> None:
    """Move what is alive now (modules, models: a scikit-learn process holds ~10^6 objects)
    out of the garbage collector's reach: its full collections then scan only what requests
    allocate, instead of pausing the server for tens of milliseconds (gc.freeze)."""
    import gc

    if collect:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def new_request_id() -> str:
    return uuid.uuid4().hex


__all__ = ["DeploymentRuntime", "NotFoundError", "NotReadyError", "ServerOptions",
           "new_request_id"]
