"""Pipelines in SQL: the step cache, step-run completion, triggers, firings, events, leases."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from kiln.entities import (
    CacheEntry,
    OutputRef,
    StepRunWrite,
    TriggerEvent,
    TriggerRecord,
)
from kiln.exceptions import NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase


class SqlPipelines(SqlBase):
    """The pipeline part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def get_cached(self, cache_key: str) -> CacheEntry | None:
        with self._hot() as cur:
            cur.execute(self._sql("SELECT cache_key, step_run_id, outputs, created_at "
                                  "FROM pipeline_cache WHERE cache_key = ?"), (cache_key,))
            row = cur.fetchone()
        if row is None:
            return None
        outputs = tuple(OutputRef(o[0], o[1], o[2]) for o in json.loads(row[2]))
        return CacheEntry(row[0], row[1], outputs, int(row[3]))

    def get_cached_many(self, cache_keys: Sequence[str]) -> dict[str, CacheEntry]:
        """The entries of those keys that exist, in one query (a whole pipeline's lookups)."""
        keys = list(dict.fromkeys(cache_keys))
        found: dict[str, CacheEntry] = {}
        for start in range(0, len(keys), 500):  # under every driver's parameter limit
            chunk = keys[start:start + 500]
            with self._hot() as cur:
                cur.execute(self._sql("SELECT cache_key, step_run_id, outputs, created_at FROM "
                                      "pipeline_cache WHERE cache_key IN ("
                                      + ", ".join("?" * len(chunk)) + ")"), chunk)
                rows = cur.fetchall()
            for row in rows:
                outputs = tuple(OutputRef(o[0], o[1], o[2]) for o in json.loads(row[2]))
                found[row[0]] = CacheEntry(row[0], row[1], outputs, int(row[3]))
        return found

    def write_step_runs(self, experiment_id: int, parent_run_id: str, user: str,
                        writes: Sequence[StepRunWrite]) -> None:
        """Insert started (or complete) step runs and end others, all in one transaction."""
        if not writes:
            return
        params: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        artifacts: list[dict[str, Any]] = []
        edges: list[dict[str, Any]] = []
        caches: list[dict[str, Any]] = []
        for w in writes:
            params += [{"run_id": w.run_id, "key": k, "value": v, "experiment_id": experiment_id}
                       for k, v in w.params.items()]
            tags += [{"run_id": w.run_id, "key": k, "value": v, "experiment_id": experiment_id}
                     for k, v in w.tags.items()]
            artifacts += [{"run_id": a.run_id, "path": a.path, "sha256": a.sha256,
                           "size": a.size} for a in w.artifacts]
            edges += [{"src_kind": e.src_kind, "src_id": e.src_id, "dst_kind": e.dst_kind,
                       "dst_id": e.dst_id, "relation": e.relation, "created_at": e.created_at}
                      for e in w.edges]
            for entry in ([w.cache] if w.cache is not None else []) + list(w.more_caches):
                caches.append({"cache_key": entry.cache_key,
                               "step_run_id": entry.step_run_id,
                               "outputs": json.dumps([[o.materializer, o.sha256, o.size]
                                                      for o in entry.outputs]),
                               "created_at": entry.created_at})
        created = [(w.run_id, experiment_id, w.name, w.status.value, w.start_time, w.end_time,
                    user, parent_run_id, w.error) for w in writes if w.create]
        ended = [(w.status.value, w.end_time, w.error, w.run_id) for w in writes if not w.create]
        kv = ("(run_id, key, value, experiment_id) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, key) "
              "DO UPDATE SET value = excluded.value")
        with self._hot(write=True) as cur:
            if created:
                cur.executemany(self._sql(
                    'INSERT INTO runs (run_id, experiment_id, name, status, start_time, end_time, '
                    '"user", parent_run_id, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'), created)
            if ended:
                cur.executemany(self._sql("UPDATE runs SET status = ?, end_time = ?, error = ? "
                                          "WHERE run_id = ?"), ended)
            for table, rows in (("params", params), ("tags", tags)):
                if rows:
                    cur.executemany(self._sql(f"INSERT INTO {table} {kv}"),
                                    [(r["run_id"], r["key"], r["value"], r["experiment_id"])
                                     for r in rows])
            if artifacts:
                cur.executemany(self._sql(
                    "INSERT INTO run_artifacts (run_id, path, sha256, size) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (run_id, path) DO UPDATE SET sha256 = excluded.sha256, "
                    "size = excluded.size"),
                    [(r["run_id"], r["path"], r["sha256"], r["size"]) for r in artifacts])
            if edges:
                cur.executemany(self._sql(
                    "INSERT INTO lineage_edges (src_kind, src_id, dst_kind, dst_id, relation, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?)"),
                    [(e["src_kind"], e["src_id"], e["dst_kind"], e["dst_id"], e["relation"],
                      e["created_at"]) for e in edges])
            if caches:
                cur.executemany(self._sql(
                    "INSERT INTO pipeline_cache (cache_key, step_run_id, outputs, created_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (cache_key) DO UPDATE SET "
                    "step_run_id = excluded.step_run_id, outputs = excluded.outputs, "
                    "created_at = excluded.created_at"),
                    [(c["cache_key"], c["step_run_id"], c["outputs"], c["created_at"])
                     for c in caches])

    # -- the hot path: one DBAPI connection kept open, plain SQL --------------------------
    # These two methods run once or twice per pipeline step; through SQLAlchemy each call
    # costs about a millisecond of connection checkout and statement handling, so they
    # talk to the driver directly on a connection the store keeps.
    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.engine.dialect.name == "postgresql" else text

    @contextmanager
    def _hot(self, write: bool = False) -> Iterator[Any]:
        lock: threading.Lock = self.__dict__.setdefault("_hot_lock", threading.Lock())
        with lock:
            conn = self.__dict__.get("_hot_conn")
            if conn is None:
                conn = self.__dict__["_hot_conn"] = self.engine.raw_connection()
            sqlite = self.engine.dialect.name == "sqlite"
            cur = conn.cursor()
            try:
                if sqlite:
                    cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield cur
                if sqlite:
                    cur.execute("COMMIT")
                else:
                    conn.commit()
            except BaseException:
                try:
                    if sqlite:
                        cur.execute("ROLLBACK")
                    else:
                        conn.rollback()
                except Exception:
                    self.__dict__.pop("_hot_conn", None)
                    conn.invalidate()
                raise
            finally:
                cur.close()

    def _close_hot(self) -> None:
        conn = self.__dict__.pop("_hot_conn", None)
        if conn is not None:
            conn.close()

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
