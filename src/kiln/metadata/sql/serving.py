"""Deployments (every change a new version), prediction-log batches and feedback in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kiln.entities import Deployment, DeploymentSpec, Feedback, PredictionLogBatch
from kiln.exceptions import ConflictError, NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class SqlServing(SqlBase):
    """The serving part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def add_deployment_version(
        self,
        name: str,
        spec: DeploymentSpec,
        *,
        action: str,
        user: str,
        created_at: int,
        message: str = "",
        create: bool = False,
        expected_version: int | None = None,
    ) -> Deployment:
        dv = t.deployment_versions
        for _attempt in range(10):
            try:
                with self._write() as conn:
                    if create:
                        made = conn.execute(
                            self._insert(t.deployments)
                            .values(name=name, created_at=created_at)
                            .on_conflict_do_nothing(index_elements=["name"])
                            .returning(t.deployments.c.name)
                        ).first()
                        if made is None:
                            raise ConflictError(
                                f"deployment {name!r} exists already; change it with "
                                "set-weights or rollback"
                            )
                    version = self._next_version(conn, t.deployments, dv, name)
                    if not create and version == 1:  # no parent row: no such deployment
                        self._missing_deployment(conn, name)
                    if expected_version is not None and version - 1 != expected_version:
                        raise ConflictError(
                            f"deployment {name!r} is at version {version - 1}, not "
                            f"{expected_version}: someone changed it meanwhile; read it again"
                        )
                    conn.execute(dv.insert().values(
                        name=name, version=version, spec=json.dumps(spec.to_dict()),
                        action=action, user=user, created_at=created_at, message=message,
                    ))
            except IntegrityError:
                continue  # a concurrent writer took this version number; take the next
            return Deployment(name, version, spec, action, user, created_at, message)
        raise ConflictError(f"could not change deployment {name!r}: too many writers")

    def get_deployment(self, name: str, version: int | None = None) -> Deployment:
        dv = t.deployment_versions
        with self._read() as conn:
            stmt = select(dv).where(dv.c.name == name)
            if version is None:
                stmt = stmt.order_by(dv.c.version.desc()).limit(1)
            else:
                stmt = stmt.where(dv.c.version == version)
            row = conn.execute(stmt).first()
            if row is None:
                head = conn.execute(
                    select(func.max(dv.c.version)).where(dv.c.name == name)
                ).scalar()
                if head is None:
                    self._missing_deployment(conn, name)
                raise NotFoundError(
                    f"deployment {name!r} has no version {version}; versions: 1..{head}"
                )
        return _deployment(row)

    def deployment_head(self, name: str) -> int:
        dv = t.deployment_versions
        with self._read() as conn:
            latest = conn.execute(
                select(func.max(dv.c.version)).where(dv.c.name == name)
            ).scalar()
            if latest is None:
                self._missing_deployment(conn, name)
        return int(latest)  # type: ignore[arg-type]  # None raised above

    def list_deployments(self) -> list[Deployment]:
        dv = t.deployment_versions
        head = (
            select(dv.c.name, func.max(dv.c.version).label("version"))
            .group_by(dv.c.name)
            .subquery()
        )
        stmt = select(dv).join(
            head, (dv.c.name == head.c.name) & (dv.c.version == head.c.version)
        ).order_by(dv.c.name)
        with self._read() as conn:
            return [_deployment(r) for r in conn.execute(stmt)]

    def deployment_history(self, name: str) -> list[Deployment]:
        dv = t.deployment_versions
        with self._read() as conn:
            rows = conn.execute(select(dv).where(dv.c.name == name).order_by(dv.c.version)).all()
            if not rows:
                self._missing_deployment(conn, name)
        return [_deployment(r) for r in rows]

    # -- prediction log ---------------------------------------------------------------
    def add_prediction_log(self, batch: PredictionLogBatch) -> None:
        with self._write() as conn:
            conn.execute(t.prediction_logs.insert().values(
                deployment=batch.deployment, artifact=batch.artifact, rows=batch.rows,
                start_time=batch.start_time, end_time=batch.end_time,
                created_at=batch.created_at,
            ))

    def list_prediction_logs(
        self, deployment: str, start: int | None = None, end: int | None = None
    ) -> list[PredictionLogBatch]:
        pl = t.prediction_logs
        stmt = select(pl).where(pl.c.deployment == deployment)
        if start is not None:
            stmt = stmt.where(pl.c.end_time >= start)
        if end is not None:
            stmt = stmt.where(pl.c.start_time <= end)
        with self._read() as conn:
            rows = conn.execute(stmt.order_by(pl.c.start_time, pl.c.id)).all()
        return [
            PredictionLogBatch(r.deployment, r.artifact, r.rows, r.start_time, r.end_time,
                               r.created_at)
            for r in rows
        ]

    # -- feedback ---------------------------------------------------------------------
    def add_feedback(self, items: Sequence[Feedback]) -> None:
        if not items:
            return
        fb = t.prediction_feedback
        rows = {
            f.request_id: {
                "request_id": f.request_id,
                "deployment": f.deployment,
                "label": json.dumps(f.label),
                "extra": json.dumps(f.extra),
                "timestamp": f.timestamp,
            }
            for f in items
        }
        stmt = self._insert(fb)
        stmt = stmt.on_conflict_do_update(
            index_elements=["request_id"],
            set_={c: getattr(stmt.excluded, c) for c in ("deployment", "label", "extra",
                                                          "timestamp")},
        )
        with self._write() as conn:
            conn.execute(stmt, list(rows.values()))

    def get_feedback(
        self, deployment: str, start: int | None = None, end: int | None = None
    ) -> list[Feedback]:
        fb = t.prediction_feedback
        stmt = select(fb).where(fb.c.deployment == deployment)
        if start is not None:
            stmt = stmt.where(fb.c.timestamp >= start)
        if end is not None:
            stmt = stmt.where(fb.c.timestamp <= end)
        with self._read() as conn:
            rows = conn.execute(stmt.order_by(fb.c.timestamp, fb.c.request_id)).all()
        return [
            Feedback(r.request_id, r.deployment, json.loads(r.label), r.timestamp,
                     json.loads(r.extra))
            for r in rows
        ]

    def _missing_deployment(self, conn: Connection, name: str) -> None:
        dv = t.deployment_versions
        names = conn.execute(
            select(dv.c.name).distinct().order_by(dv.c.name).limit(10)
        ).scalars().all()
        known = ", ".join(repr(n) for n in names) or "none yet"
        raise NotFoundError(f"deployment {name!r} does not exist; deployments: {known}")


def _deployment(row: Any) -> Deployment:
    return Deployment(
        name=row.name,
        version=row.version,
        spec=DeploymentSpec.from_dict(json.loads(row.spec)),
        action=row.action,
        user=row.user,
        created_at=row.created_at,
        message=row.message or "",
    )
