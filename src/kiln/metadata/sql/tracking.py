"""Experiments, runs, params, tags, metrics and run artifacts in SQL."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from kiln.entities import Experiment, Metric, Run, RunArtifact, RunStatus
from kiln.exceptions import ConflictError, NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import Prepared, SqlBase
from kiln.metadata.sql.audit import append_audit
from kiln.metadata.sql.search import search_run_ids

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from kiln.metadata.base import RunQuery

_CHUNK = 500  # bound on IN (...) lists


class SqlTracking(SqlBase):
    """The tracking part of :class:`kiln.metadata.sql.SqlMetadataStore`.

    Run creation and logging are the hot paths (thousands of runs, millions of
    points), so statements are built once per store and immutable facts are
    cached: an experiment's name and a run's experiment never change.
    """

    _MAX_CACHED_RUNS = 100_000

    def _init_tracking(self) -> None:
        self._experiments_by_name: dict[str, Experiment] = {}
        self._experiment_names: dict[int, str] = {}
        self._run_experiments: dict[str, int] = {}
        tags_up = self._insert(t.tags)
        lm = t.latest_metrics
        lm_up = self._insert(lm)
        d = self.engine.dialect
        self._stmt = {
            "insert_run": Prepared(t.runs.insert(), d, [c.name for c in t.runs.columns]),
            "insert_tags": Prepared(t.tags.insert(), d, ["run_id", "key", "value",
                                                         "experiment_id"]),
            "upsert_tags": Prepared(
                tags_up.on_conflict_do_update(
                    index_elements=["run_id", "key"], set_={"value": tags_up.excluded.value}
                ),
                d,
                ["run_id", "key", "value", "experiment_id"],
            ),
            "insert_params": Prepared(t.params.insert(), d, ["run_id", "key", "value",
                                                             "experiment_id"]),
            "run_params": Prepared(
                select(t.params.c.key, t.params.c.value).where(
                    t.params.c.run_id == bindparam("b_run_id")
                ),
                d,
            ),
            "insert_metrics": Prepared(t.metrics.insert(), d, ["run_id", "key", "value", "step",
                                                               "timestamp"]),
            "upsert_latest": Prepared(
                lm_up.on_conflict_do_update(
                    index_elements=["run_id", "key"],
                    set_={
                        "value": lm_up.excluded.value,
                        "step": lm_up.excluded.step,
                        "timestamp": lm_up.excluded.timestamp,
                    },
                    where=or_(
                        lm_up.excluded.step > lm.c.step,
                        and_(lm_up.excluded.step == lm.c.step,
                             lm_up.excluded.timestamp >= lm.c.timestamp),
                    ),
                ),
                d,
                ["run_id", "key", "value", "step", "timestamp", "experiment_id"],
            ),
            "run_status": Prepared(
                select(t.runs.c.status, t.runs.c.user).where(
                    t.runs.c.run_id == bindparam("b_run_id")
                ),
                d,
            ),
            "end_run": Prepared(
                update(t.runs).where(t.runs.c.run_id == bindparam("b_run_id")).values(
                    status=bindparam("b_status"), end_time=bindparam("b_end"),
                    error=bindparam("b_error")
                ),
                d,
            ),
        }

    def _remember(self, exp: Experiment) -> Experiment:
        self._experiments_by_name[exp.name] = exp
        self._experiment_names[exp.experiment_id] = exp.name
        return exp

    # -- experiments ------------------------------------------------------------------
    def get_or_create_experiment(self, name: str) -> Experiment:
        cached = self._experiments_by_name.get(name)
        if cached is not None:
            return cached
        with self._read() as conn:
            row = conn.execute(select(t.experiments).where(t.experiments.c.name == name)).first()
        if row is not None:
            return self._remember(Experiment(row.experiment_id, row.name, row.created_at))
        from kiln._time import now_ms

        with self._write() as conn:
            stmt = self._insert(t.experiments).values(name=name, created_at=now_ms())
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
            row = conn.execute(select(t.experiments).where(t.experiments.c.name == name)).one()
        return self._remember(Experiment(row.experiment_id, row.name, row.created_at))

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
            exp_name = self._experiment_name(conn, experiment_id)
            self._stmt["insert_run"].execute(
                conn,
                {
                    "run_id": run_id,
                    "experiment_id": experiment_id,
                    "name": name,
                    "status": RunStatus.RUNNING.value,
                    "start_time": start_time,
                    "end_time": None,
                    "user": user,
                    "parent_run_id": parent_run_id,
                    "error": None,
                },
            )
            if tags:
                self._stmt["insert_tags"].executemany(
                    conn,
                    [
                        {"run_id": run_id, "key": k, "value": v, "experiment_id": experiment_id}
                        for k, v in tags.items()
                    ],
                )
            append_audit(conn, actor=user, action="run.create", object_kind="run",
                         object_id=run_id, before=None,
                         after={"experiment": exp_name, "name": name, "status": "RUNNING",
                                "parent_run_id": parent_run_id},
                         timestamp=start_time)
        self._cache_run(run_id, experiment_id)
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
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        error: str | None = None,
        metrics: Sequence[tuple[str, Metric]] = (),
    ) -> None:
        with self._write() as conn:
            if metrics:
                experiments = self._experiment_of(conn, {r for r, _ in metrics})
                self._write_metrics(conn, metrics, experiments)
            row = self._stmt["run_status"].execute(conn, {"b_run_id": run_id}).fetchone()
            if row is None:
                raise NotFoundError(f"run {run_id!r} does not exist")
            self._stmt["end_run"].execute(
                conn,
                {"b_run_id": run_id, "b_status": status.value, "b_end": end_time,
                 "b_error": error},
            )
            append_audit(conn, actor=row[1], action="run.end", object_kind="run",
                         object_id=run_id, before={"status": row[0]},
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
                self._stmt["upsert_tags"].executemany(
                    conn,
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
    def _cache_run(self, run_id: str, experiment_id: int) -> None:
        if len(self._run_experiments) >= self._MAX_CACHED_RUNS:
            self._run_experiments.clear()
        self._run_experiments[run_id] = experiment_id

    def _experiment_name(self, conn: Connection, experiment_id: int) -> str:
        name = self._experiment_names.get(experiment_id)
        if name is None:
            name = conn.execute(
                select(t.experiments.c.name).where(t.experiments.c.experiment_id == experiment_id)
            ).scalar()
            if name is None:
                raise NotFoundError(f"experiment id {experiment_id} does not exist")
            self._experiment_names[experiment_id] = name
        return name

    def _experiment_of(self, conn: Connection, run_ids: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(run_ids))
        found: dict[str, int] = {r: e for r in wanted if (e := self._run_experiments.get(r))}
        for chunk in _chunks([r for r in wanted if r not in found]):
            rows = conn.execute(
                select(t.runs.c.run_id, t.runs.c.experiment_id).where(t.runs.c.run_id.in_(chunk))
            )
            for row in rows:
                found[row.run_id] = row.experiment_id
                self._cache_run(row.run_id, row.experiment_id)
        missing = [r for r in wanted if r not in found]
        if missing:
            raise NotFoundError(f"run {missing[0]!r} does not exist")
        return found

    def _insert_params(
        self, conn: Connection, run_id: str, experiment_id: int, params: Mapping[str, str]
    ) -> None:
        existing: dict[str, str] = {
            k: v
            for k, v in self._stmt["run_params"].execute(conn, {"b_run_id": run_id}).fetchall()
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
                self._stmt["insert_params"].executemany(conn, new)
            except (IntegrityError, self.engine.dialect.loaded_dbapi.IntegrityError):
                raise ConflictError(
                    f"params of run {run_id} were logged concurrently; retry"
                ) from None

    def _write_metrics(
        self,
        conn: Connection,
        points: Sequence[tuple[str, Metric]],
        experiments: Mapping[str, int],
    ) -> None:
        rows = []
        latest: dict[tuple[str, str], Metric] = {}
        for rid, m in points:
            rows.append({"run_id": rid, "key": m.key, "value": _stored(m.value), "step": m.step,
                         "timestamp": m.timestamp})
            cur = latest.get((rid, m.key))
            if cur is None or (m.step, m.timestamp) >= (cur.step, cur.timestamp):
                latest[(rid, m.key)] = m
        self._stmt["insert_metrics"].executemany(conn, rows)
        self._stmt["upsert_latest"].executemany(
            conn,
            [
                {"run_id": rid, "key": m.key, "value": _stored(m.value), "step": m.step,
                 "timestamp": m.timestamp, "experiment_id": experiments[rid]}
                for (rid, _), m in latest.items()
            ],
        )

    def _load_runs(self, conn: Connection, run_ids: Sequence[str]) -> list[Run]:
        if not run_ids:
            return []
        # Straight to the driver with fetchall: a page of 1,000 runs is ~30,000 key/value
        # rows, and row-by-row fetching through the ORM-free Core still dominates otherwise.
        ph = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        rows: dict[str, tuple[Any, ...]] = {}
        params: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
        tags: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
        metrics: dict[str, dict[str, float]] = {rid: {} for rid in run_ids}
        for chunk in _chunks(list(run_ids)):
            marks = ", ".join([ph] * len(chunk))
            cursor.execute(
                "SELECT r.run_id, r.experiment_id, e.name, r.name, r.status, r.start_time, "
                'r.end_time, r."user", r.parent_run_id, r.error FROM runs r JOIN experiments e '
                f"ON e.experiment_id = r.experiment_id WHERE r.run_id IN ({marks})",
                tuple(chunk),
            )
            for row in cursor.fetchall():
                rows[row[0]] = row
            for table, target in (("params", params), ("tags", tags)):
                cursor.execute(
                    f"SELECT run_id, key, value FROM {table} WHERE run_id IN ({marks})",
                    tuple(chunk),
                )
                for rid, key, value in cursor.fetchall():
                    target[rid][key] = value
            cursor.execute(
                f"SELECT run_id, key, value FROM latest_metrics WHERE run_id IN ({marks})",
                tuple(chunk),
            )
            for rid, key, value in cursor.fetchall():
                metrics[rid][key] = _nan(value)
        return [
            Run(
                run_id=rid,
                experiment_id=rec[1],
                experiment=rec[2],
                name=rec[3],
                status=RunStatus(rec[4]),
                start_time=rec[5],
                end_time=rec[6],
                user=rec[7],
                parent_run_id=rec[8],
                error=rec[9],
                params=params[rid],
                metrics=metrics[rid],
                tags=tags[rid],
            )
            for rid in run_ids
            if (rec := rows.get(rid)) is not None
        ]


def _stored(value: float) -> float | None:
    return None if value != value else value  # NaN is stored as NULL


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]
