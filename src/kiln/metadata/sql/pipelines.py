"""Pipelines in SQL: the step cache, step-run completion, triggers, firings, events, leases."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from kiln.entities import (
    CacheEntry,
    LineageEdge,
    OutputRef,
    RunArtifact,
    RunStatus,
    TriggerEvent,
    TriggerRecord,
)
from kiln.exceptions import NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase


class SqlPipelines(SqlBase):
    """The pipeline part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def get_cached(self, cache_key: str) -> CacheEntry | None:
        c = t.pipeline_cache
        with self._read() as conn:
            row = conn.execute(select(c).where(c.c.cache_key == cache_key)).first()
        if row is None:
            return None
        outputs = tuple(OutputRef(o[0], o[1], o[2]) for o in json.loads(row.outputs))
        return CacheEntry(row.cache_key, row.step_run_id, outputs, row.created_at)

    def finish_step_run(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        error: str | None = None,
        *,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        artifacts: Sequence[RunArtifact] = (),
        edges: Sequence[LineageEdge] = (),
        cache: CacheEntry | None = None,
    ) -> None:
        with self._write() as conn:
            exp = conn.execute(
                select(t.runs.c.experiment_id).where(t.runs.c.run_id == run_id)
            ).scalar()
            if exp is None:
                raise NotFoundError(f"run {run_id!r} does not exist")
            conn.execute(
                update(t.runs).where(t.runs.c.run_id == run_id)
                .values(status=status.value, end_time=end_time, error=error)
            )
            for table, values in ((t.params, params), (t.tags, tags)):
                if values:
                    stmt = self._insert(table)
                    conn.execute(
                        stmt.on_conflict_do_update(index_elements=["run_id", "key"],
                                                   set_={"value": stmt.excluded.value}),
                        [{"run_id": run_id, "key": k, "value": v, "experiment_id": exp}
                         for k, v in values.items()],
                    )
            if artifacts:
                stmt = self._insert(t.run_artifacts)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["run_id", "path"],
                        set_={"sha256": stmt.excluded.sha256, "size": stmt.excluded.size}),
                    [{"run_id": a.run_id, "path": a.path, "sha256": a.sha256, "size": a.size}
                     for a in artifacts],
                )
            if edges:
                conn.execute(t.lineage_edges.insert(), [
                    {"src_kind": e.src_kind, "src_id": e.src_id, "dst_kind": e.dst_kind,
                     "dst_id": e.dst_id, "relation": e.relation, "created_at": e.created_at}
                    for e in edges
                ])
            if cache is not None:
                outputs = json.dumps([[o.materializer, o.sha256, o.size] for o in cache.outputs])
                stmt = self._insert(t.pipeline_cache).values(
                    cache_key=cache.cache_key, step_run_id=cache.step_run_id, outputs=outputs,
                    created_at=cache.created_at)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=["cache_key"],
                    set_={"step_run_id": stmt.excluded.step_run_id,
                          "outputs": stmt.excluded.outputs,
                          "created_at": stmt.excluded.created_at}))

    # -- triggers ---------------------------------------------------------------------
    def save_trigger(self, trigger: TriggerRecord) -> TriggerRecord:
        """Insert the trigger, or update its pipeline, spec and params (keeping its state)."""
        for attempt in range(3):
            try:
                return self._save_trigger(trigger)
            except IntegrityError:  # registered concurrently by another process: update it
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _save_trigger(self, trigger: TriggerRecord) -> TriggerRecord:
        tr = t.pipeline_triggers
        with self._write() as conn:
            row = conn.execute(select(tr).where(tr.c.trigger_id == trigger.trigger_id)).first()
            if row is None:
                conn.execute(tr.insert().values(
                    trigger_id=trigger.trigger_id, pipeline=trigger.pipeline, kind=trigger.kind,
                    spec=json.dumps(trigger.spec, sort_keys=True),
                    params=json.dumps(trigger.params, sort_keys=True),
                    state=json.dumps(trigger.state, sort_keys=True),
                    created_at=trigger.created_at, updated_at=trigger.updated_at))
            else:
                conn.execute(update(tr).where(tr.c.trigger_id == trigger.trigger_id).values(
                    pipeline=trigger.pipeline, kind=trigger.kind,
                    spec=json.dumps(trigger.spec, sort_keys=True),
                    params=json.dumps(trigger.params, sort_keys=True)))
            saved = conn.execute(select(tr).where(tr.c.trigger_id == trigger.trigger_id)).one()
        return _trigger(saved)

    def list_triggers(self) -> list[TriggerRecord]:
        tr = t.pipeline_triggers
        with self._read() as conn:
            return [_trigger(r) for r in conn.execute(select(tr).order_by(tr.c.trigger_id))]

    def set_trigger_state(self, trigger_id: str, state: Mapping[str, object],
                          updated_at: int) -> None:
        tr = t.pipeline_triggers
        with self._write() as conn:
            result = conn.execute(update(tr).where(tr.c.trigger_id == trigger_id).values(
                state=json.dumps(dict(state), sort_keys=True), updated_at=updated_at))
            if result.rowcount == 0:
                raise NotFoundError(f"trigger {trigger_id!r} does not exist")

    def claim_fire(self, trigger_id: str, fire_key: str, owner: str, fired_at: int) -> bool:
        """Record a firing; ``False`` when it was recorded before (by anyone)."""
        stmt = self._insert(t.trigger_fires).values(
            trigger_id=trigger_id, fire_key=fire_key, owner=owner, fired_at=fired_at)
        try:
            with self._write() as conn:
                row = conn.execute(
                    stmt.on_conflict_do_nothing(index_elements=["trigger_id", "fire_key"])
                    .returning(t.trigger_fires.c.fire_key)).first()
                return row is not None
        except IntegrityError:
            return False

    def set_fire_run(self, trigger_id: str, fire_key: str, run_id: str) -> None:
        f = t.trigger_fires
        with self._write() as conn:
            conn.execute(update(f).where(f.c.trigger_id == trigger_id, f.c.fire_key == fire_key)
                         .values(run_id=run_id))

    def count_fires(self, trigger_id: str) -> int:
        f = t.trigger_fires
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(f)
                                    .where(f.c.trigger_id == trigger_id)).scalar_one())

    def add_trigger_event(self, kind: str, name: str, payload: Mapping[str, object],
                          created_at: int) -> TriggerEvent:
        ev = t.trigger_events
        with self._write() as conn:
            event_id = conn.execute(ev.insert().values(
                kind=kind, name=name, payload=json.dumps(dict(payload), sort_keys=True),
                created_at=created_at).returning(ev.c.event_id)).scalar_one()
        return TriggerEvent(int(event_id), kind, name, dict(payload), created_at)

    def trigger_events(self, kind: str, name: str, after_id: int = 0) -> list[TriggerEvent]:
        ev = t.trigger_events
        with self._read() as conn:
            rows = conn.execute(select(ev).where(ev.c.kind == kind, ev.c.name == name,
                                                 ev.c.event_id > after_id)
                                .order_by(ev.c.event_id)).all()
        return [TriggerEvent(int(r.event_id), r.kind, r.name, json.loads(r.payload),
                             r.created_at) for r in rows]

    # -- leases -----------------------------------------------------------------------
    def acquire_lease(self, name: str, owner: str, now: int, ttl_ms: int) -> bool:
        """Take or renew ``name`` for ``owner`` until ``now + ttl_ms``; ``False`` when another
        owner holds an unexpired lease."""
        le = t.scheduler_leases
        for _attempt in range(3):
            try:
                with self._write() as conn:
                    row = conn.execute(select(le).where(le.c.name == name)
                                       .with_for_update()).first()
                    if row is None:
                        conn.execute(le.insert().values(name=name, owner=owner,
                                                        expires_at=now + ttl_ms))
                        return True
                    if row.owner != owner and row.expires_at > now:
                        return False
                    conn.execute(update(le).where(le.c.name == name)
                                 .values(owner=owner, expires_at=now + ttl_ms))
                    return True
            except IntegrityError:
                continue  # another scheduler inserted the row first: read it again
        return False

    def release_lease(self, name: str, owner: str) -> None:
        le = t.scheduler_leases
        with self._write() as conn:
            conn.execute(delete(le).where(le.c.name == name, le.c.owner == owner))


def _trigger(r: Any) -> TriggerRecord:
    return TriggerRecord(
        trigger_id=r.trigger_id, pipeline=r.pipeline, kind=r.kind, spec=json.loads(r.spec),
        params=json.loads(r.params), state=json.loads(r.state), created_at=r.created_at,
        updated_at=r.updated_at,
    )
