"""``kiln scheduler``: a long-running process that fires due triggers.

Durable: triggers and their state live in the metadata store, so a restarted
scheduler carries on. Safe with several schedulers on one database: only the
holder of the ``scheduler`` lease checks triggers, and every firing is first
claimed as a unique ``(trigger, fire key)`` row, so even a scheduler that lost
its lease mid-tick cannot fire the same trigger twice. SIGTERM (or Ctrl-C)
finishes the current tick, releases the lease and exits.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import TriggerRecord
from kiln.exceptions import InvalidArgumentError, KilnError
from kiln.pipelines.triggers import MISSED_POLICIES, Trigger, TriggerContext, trigger_from_spec

if TYPE_CHECKING:
    from kiln.pipelines.dsl import Pipeline
    from kiln.workspace import Workspace

LEASE = "scheduler"
log = logging.getLogger("kiln.scheduler")


@dataclass(frozen=True)
class Fired:
    """One firing: the trigger, its fire key and the pipeline run it started."""

    trigger_id: str
    fire_key: str
    run_id: str | None
    status: str


class Scheduler:
    """Fires the triggers registered in ``ws``'s metadata store.

    ``modules`` (and ``pipelines``) are registered first: each pipeline's
    declared triggers are saved to the store, keeping any state they already have.
    """

    def __init__(
        self,
        ws: Workspace,
        *,
        modules: Sequence[str] = (),
        pipelines: Sequence[Pipeline] = (),
        interval: float = 5.0,
        missed: str = "catch_up",
        lease_ttl: float | None = None,
        executor: str = "local",
        owner: str | None = None,
    ) -> None:
        if missed not in MISSED_POLICIES:
            raise InvalidArgumentError(f"missed={missed!r} is not accepted; use "
                                       f"{' or '.join(MISSED_POLICIES)}")
        if interval <= 0:
            raise InvalidArgumentError(f"interval={interval!r} is not accepted; use seconds > 0")
        self.ws = ws
        self.interval = interval
        self.missed = missed
        self.lease_ttl_ms = int((lease_ttl or max(30.0, 3 * interval)) * 1000)
        self.executor = executor
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stop_event = threading.Event()
        self._local: dict[str, tuple[Trigger, Pipeline]] = {}
        from kiln.pipelines.dsl import Pipeline
        from kiln.pipelines.loader import import_module

        found = list(pipelines)
        for name in modules:
            module = import_module(name)
            found += [v for v in vars(module).values() if isinstance(v, Pipeline)]
        for pipe in found:
            self.register(pipe)

    def register(self, pipe: Pipeline, params: dict[str, Any] | None = None) -> list[str]:
        """Save ``pipe``'s triggers in the store; returns their ids."""
        ids = []
        now = now_ms()
        for trig in pipe.triggers:
            tid = trig.trigger_id(pipe.ref)
            self.ws.store.save_trigger(TriggerRecord(tid, pipe.ref, trig.kind, trig.spec(),
                                                     dict(params or {}), {}, now, now))
            self._local[tid] = (trig, pipe)
            ids.append(tid)
        return ids

    def triggers(self) -> list[TriggerRecord]:
        return self.ws.store.list_triggers()

    def _resolve(self, rec: TriggerRecord) -> tuple[Trigger, Pipeline]:
        local = self._local.get(rec.trigger_id)
        if local is not None:
            return local
        from kiln.pipelines.loader import load_pipeline

        resolved = (trigger_from_spec(rec.kind, dict(rec.spec)), load_pipeline(rec.pipeline))
        self._local[rec.trigger_id] = resolved
        return resolved

    def tick(self, now: int | None = None) -> list[Fired]:
        """Check every trigger once (if this scheduler holds the lease); fire what is due."""
        from kiln.pipelines.runner import run_pipeline

        store = self.ws.store
        now = now_ms() if now is None else now
        if not store.acquire_lease(LEASE, self.owner, now_ms(), self.lease_ttl_ms):
            return []
        ctx = TriggerContext(self.ws, now, self.missed, grace_ms=int(
            max(60.0, 2 * self.interval) * 1000))
        fired: list[Fired] = []
        for rec in store.list_triggers():
            if self.stop_event.is_set():
                break
            try:
                trig, pipe = self._resolve(rec)
                if not rec.state:
                    store.set_trigger_state(rec.trigger_id, trig.initial_state(ctx), now)
                    continue
                due = trig.check(ctx, dict(rec.state))
            except KilnError as exc:
                log.error("trigger %s cannot be checked: %s", rec.trigger_id, exc)
                continue
            for fire_key, extra in due.fires:
                if not store.claim_fire(rec.trigger_id, fire_key, self.owner, now_ms()):
                    continue  # another scheduler fired it already
                params = {**rec.params, **extra}
                try:
                    result = run_pipeline(pipe, params, executor=self.executor, workspace=self.ws,
                                          tags={"kiln.trigger": rec.trigger_id,
                                                "kiln.fire_key": fire_key})
                    store.set_fire_run(rec.trigger_id, fire_key, result.run_id)
                    fired.append(Fired(rec.trigger_id, fire_key, result.run_id,
                                       result.status.value))
                except KilnError as exc:
                    log.error("trigger %s could not start %s: %s", rec.trigger_id, pipe.ref, exc)
                    fired.append(Fired(rec.trigger_id, fire_key, None, "ERROR"))
            if due.state != rec.state:
                store.set_trigger_state(rec.trigger_id, due.state, now)
            store.acquire_lease(LEASE, self.owner, now_ms(), self.lease_ttl_ms)
        return fired

    def serve(self) -> None:
        """Tick every ``interval`` seconds until :meth:`stop` or SIGTERM / SIGINT."""
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda *_: self.stop())
        try:
            while not self.stop_event.is_set():
                for f in self.tick():
                    log.info("fired %s (%s): run %s %s", f.trigger_id, f.fire_key, f.run_id,
                             f.status)
                self.stop_event.wait(self.interval)
        finally:
            self.ws.store.release_lease(LEASE, self.owner)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        """Ask :meth:`serve` to return after the current tick."""
        self.stop_event.set()
