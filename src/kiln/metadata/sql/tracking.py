"""Experiments, runs, params, tags, metrics and run artifacts in SQL."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from kiln.entities import Experiment, Metric, Run, RunArtifact, RunStatus
from kiln.exceptions import ConflictError, NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase
from kiln.metadata.sql.audit import append_audit
from kiln.metadata.sql.search import search_run_ids

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from kiln.metadata.base import RunQuery

_CHUNK = 500  # bound on IN (...) lists


class SqlTracking(SqlBase):
    """The tracking part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    # -- experiments ------------------------------------------------------------------
    def get_or_create_experiment(self, name: str) -> Experiment:
        with self._read() as conn:
            row = conn.execute(select(t.experiments).where(t.experiments.c.name == name)).first()
        if row is not None:
            return Experiment(row.experiment_id, row.name, row.created_at)
        from kiln._time import now_ms

        with self._write() as conn:
            stmt = self._insert(t.experiments).values(name=name, created_at=now_ms())
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
            row = conn.execute(select(t.experiments).where(t.experiments.c.name == name)).one()
        return Experiment(row.experiment_id, row.name, row.created_at)

    def get_experiment(self, name: str) -> Experiment:
        with self._read() as conn:
            row = conn.execute(select(t.experiments).where(t.experiments.c.name == name)).first()
            if row is None:
                names = conn.execute(select(t.experiments.c.name).limit(10)).scalars().all()
        if row is None:
            known = ", ".join(repr(n) for n in names) or "none yet"
            raise NotFoundError(f"experiment {name!r} does not exist; experiments: {known}")
        return Experiment(row.experiment_id, row.name, row.created_at)

    def list_experiments(self) -> list[Experiment]:
        with self._read() as conn:
            rows = conn.execute(select(t.experiments).order_by(t.experiments.c.experiment_id))
            return [Experiment(r.experiment_id, r.name, r.created_at) for r in rows]

    # -- runs -------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: int,
        name: str,
        user: str,
        start_time: int,
        tags: Mapping[str, str],
        parent_run_id: str | None = None,
    ) -> Run:
        run_id = uuid.uuid4().hex
        with self._write() as conn:
            conn.execute(
                t.runs.insert().values(
                    run_id=run_id,
                    experiment_id=experiment_id,
                    name=name,
                    status=RunStatus.RUNNING.value,
                    start_time=start_time,
                    user=user,
                    parent_run_id=parent_run_id,
                )
            )
            if tags:
                conn.execute(
                    t.tags.insert(),
                    [
                        {"run_id": run_id, "key": k, "value": v, "experiment_id": experiment_id}
                        for k, v in tags.items()
                    ],
                )
            exp_name = conn.execute(
                select(t.experiments.c.name).where(t.experiments.c.experiment_id == experiment_id)
            ).scalar_one()
            append_audit(conn, actor=user, action="run.create", object_kind="run",
                         object_id=run_id, before=None,
                         after={"experiment": exp_name, "name": name, "status": "RUNNING",
                                "parent_run_id": parent_run_id},
                         timestamp=start_time)
        return Run(
            run_id=run_id,
            experiment_id=experiment_id,
            experiment=exp_name,
            name=name,
            status=RunStatus.RUNNING,
            start_time=start_time,
            end_time=None,
            user=user,
            parent_run_id=parent_run_id,
            tags=dict(tags),
        )

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            runs = self._load_runs(conn, [run_id])
        if not runs:
            raise NotFoundError(f"run {run_id!r} does not exist")
        return runs[0]

    def end_run(
        self, run_id: str, status: RunStatus, end_time: int, error: str | None = None
    ) -> None:
        r = t.runs
        with self._write() as conn:
            row = conn.execute(select(r.c.status, r.c.user).where(r.c.run_id == run_id)).first()
            if row is None:
                raise NotFoundError(f"run {run_id!r} does not exist")
            conn.execute(
                update(r)
                .where(r.c.run_id == run_id)
                .values(status=status.value, end_time=end_time, error=error)
            )
            append_audit(conn, actor=row.user, action="run.end", object_kind="run",
                         object_id=run_id, before={"status": row.status},
                         after={"status": status.value, "end_time": end_time, "error": error},
                         timestamp=end_time)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        with self._write() as conn:
            experiment_id = self._experiment_of(conn, [run_id])[run_id]
            if params:
                self._insert_params(conn, run_id, experiment_id, params)
            if tags:
                stmt = self._insert(t.tags)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
                    ),
                    [
                        {"run_id": run_id, "key": k, "value": v, "experiment_id": experiment_id}
                        for k, v in tags.items()
                    ],
                )
            if metrics:
                self._write_metrics(conn, [(run_id, m) for m in metrics], {run_id: experiment_id})

    def write_metrics(self, points: Sequence[tuple[str, Metric]]) -> None:
        if not points:
            return
        with self._write() as conn:
            experiments = self._experiment_of(conn, {rid for rid, _ in points})
            self._write_metrics(conn, points, experiments)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        m = t.metrics
        with self._read() as conn:
            rows = conn.execute(
                select(m.c.key, m.c.value, m.c.step, m.c.timestamp)
                .where(m.c.run_id == run_id, m.c.key == key)
                .order_by(m.c.step, m.c.timestamp, m.c.id)
            ).all()
            if not rows:
                self._experiment_of(conn, [run_id])  # unknown run -> NotFoundError
        return [Metric(r.key, _nan(r.value), r.step, r.timestamp) for r in rows]

    def search_runs(self, query: RunQuery) -> list[Run]:
        with self._read() as conn:
            return self._load_runs(conn, search_run_ids(conn, query))

    def log_artifact(self, artifact: RunArtifact) -> None:
        with self._write() as conn:
            self._experiment_of(conn, [artifact.run_id])
            stmt = self._insert(t.run_artifacts).values(
                run_id=artifact.run_id,
                path=artifact.path,
                sha256=artifact.sha256,
                size=artifact.size,
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["run_id", "path"],
                    set_={"sha256": stmt.excluded.sha256, "size": stmt.excluded.size},
                )
            )

    def list_artifacts(self, run_id: str) -> list[RunArtifact]:
        a = t.run_artifacts
        with self._read() as conn:
            self._experiment_of(conn, [run_id])
            rows = conn.execute(select(a).where(a.c.run_id == run_id).order_by(a.c.path))
            return [RunArtifact(r.run_id, r.path, r.sha256, r.size) for r in rows]

    # -- helpers ----------------------------------------------------------------------
    def _experiment_of(self, conn: Connection, run_ids: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(run_ids))
        found: dict[str, int] = {}
        for chunk in _chunks(wanted):
            rows = conn.execute(
                select(t.runs.c.run_id, t.runs.c.experiment_id).where(t.runs.c.run_id.in_(chunk))
            )
            found.update({r.run_id: r.experiment_id for r in rows})
        missing = [r for r in wanted if r not in found]
        if missing:
            raise NotFoundError(f"run {missing[0]!r} does not exist")
        return found

    def _insert_params(
        self, conn: Connection, run_id: str, experiment_id: int, params: Mapping[str, str]
    ) -> None:
        p = t.params
        existing: dict[str, str] = {
            k: v
            for k, v in conn.execute(
                select(p.c.key, p.c.value).where(p.c.run_id == run_id, p.c.key.in_(list(params)))
            )
        }
        for key, value in params.items():
            if key in existing and existing[key] != value:
                raise ConflictError(
                    f"param {key!r} of run {run_id} is already {existing[key]!r} and cannot "
                    f"change to {value!r}; params are immutable, log a new run or use a tag"
                )
        new = [
            {"run_id": run_id, "key": k, "value": v, "experiment_id": experiment_id}
            for k, v in params.items()
            if k not in existing
        ]
        if new:
            try:
                conn.execute(p.insert(), new)
            except IntegrityError:
                raise ConflictError(
                    f"params of run {run_id} were logged concurrently; retry"
                ) from None

    def _write_metrics(
        self,
        conn: Connection,
        points: Sequence[tuple[str, Metric]],
        experiments: Mapping[str, int],
    ) -> None:
        conn.execute(
            t.metrics.insert(),
            [
                {
                    "run_id": rid,
                    "key": m.key,
                    "value": None if math.isnan(m.value) else m.value,
                    "step": m.step,
                    "timestamp": m.timestamp,
                }
                for rid, m in points
            ],
        )
        latest: dict[tuple[str, str], Metric] = {}
        for rid, m in points:
            cur = latest.get((rid, m.key))
            if cur is None or (m.step, m.timestamp) >= (cur.step, cur.timestamp):
                latest[(rid, m.key)] = m
        lm = t.latest_metrics
        stmt = self._insert(lm)
        newer = or_(
            stmt.excluded.step > lm.c.step,
            and_(stmt.excluded.step == lm.c.step, stmt.excluded.timestamp >= lm.c.timestamp),
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["run_id", "key"],
                set_={
                    "value": stmt.excluded.value,
                    "step": stmt.excluded.step,
                    "timestamp": stmt.excluded.timestamp,
                },
                where=newer,
            ),
            [
                {
                    "run_id": rid,
                    "key": m.key,
                    "value": None if math.isnan(m.value) else m.value,
                    "step": m.step,
                    "timestamp": m.timestamp,
                    "experiment_id": experiments[rid],
                }
                for (rid, _), m in latest.items()
            ],
        )

    def _load_runs(self, conn: Connection, run_ids: Sequence[str]) -> list[Run]:
        if not run_ids:
            return []
        rows: dict[str, Any] = {}
        kv: dict[str, dict[str, dict[str, Any]]] = {
            rid: {"params": {}, "tags": {}, "metrics": {}} for rid in run_ids
        }
        r, e = t.runs, t.experiments
        for chunk in _chunks(list(run_ids)):
            for row in conn.execute(
                select(r, e.c.name.label("experiment"))
                .join(e, e.c.experiment_id == r.c.experiment_id)
                .where(r.c.run_id.in_(chunk))
            ):
                rows[row.run_id] = row
            for name, table in (("params", t.params), ("tags", t.tags)):
                for rid, key, value in conn.execute(
                    select(table.c.run_id, table.c.key, table.c.value).where(
                        table.c.run_id.in_(chunk)
                    )
                ):
                    kv[rid][name][key] = value
            lm = t.latest_metrics
            for rid, key, value in conn.execute(
                select(lm.c.run_id, lm.c.key, lm.c.value).where(lm.c.run_id.in_(chunk))
            ):
                kv[rid]["metrics"][key] = _nan(value)
        return [
            Run(
                run_id=rid,
                experiment_id=rec.experiment_id,
                experiment=rec.experiment,
                name=rec.name,
                status=RunStatus(rec.status),
                start_time=rec.start_time,
                end_time=rec.end_time,
                user=rec.user,
                parent_run_id=rec.parent_run_id,
                error=rec.error,
                params=kv[rid]["params"],
                metrics=kv[rid]["metrics"],
                tags=kv[rid]["tags"],
            )
            for rid in run_ids
            if (rec := rows.get(rid)) is not None
        ]


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]
