"""Monitors, their window results, alert rules, alerts and reference profiles in SQL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kiln.entities import Alert, AlertRule, Monitor, MonitorResult, ReferenceProfile
from kiln.exceptions import ConflictError, NotFoundError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class SqlMonitoring(SqlBase):
    """The monitoring part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    # -- monitors ---------------------------------------------------------------------
    def create_monitor(self, monitor: Monitor) -> Monitor:
        try:
            with self._write() as conn:
                conn.execute(t.monitors.insert().values(
                    name=monitor.name, deployment=monitor.deployment,
                    every_ms=monitor.every_ms, window_ms=monitor.window_ms,
                    config=json.dumps(monitor.config), user=monitor.user,
                    created_at=monitor.created_at))
        except IntegrityError:
            raise ConflictError(f"monitor {monitor.name!r} exists already; pick another name "
                                "or delete it first") from None
        return monitor

    def get_monitor(self, name: str) -> Monitor:
        with self._read() as conn:
            row = conn.execute(select(t.monitors).where(t.monitors.c.name == name)).first()
            if row is None:
                self._missing_monitor(conn, name)
        return _monitor(row)

    def list_monitors(self) -> list[Monitor]:
        with self._read() as conn:
            rows = conn.execute(select(t.monitors).order_by(t.monitors.c.name)).all()
        return [_monitor(r) for r in rows]

    def delete_monitor(self, name: str) -> None:
        with self._write() as conn:
            if conn.execute(t.monitors.delete().where(t.monitors.c.name == name)).rowcount == 0:
                self._missing_monitor(conn, name)
            conn.execute(t.alert_rules.delete().where(t.alert_rules.c.monitor == name))

    # -- window results -----------------------------------------------------------------
    def add_monitor_result(self, monitor: str, *, window_start: int, window_end: int,
                           status: str, rows: int, data: dict[str, Any],
                           created_at: int) -> MonitorResult:
        mr = t.monitor_results
        text = json.dumps(data, allow_nan=True)
        for _attempt in range(10):
            try:
                with self._write() as conn:
                    exists = conn.execute(
                        select(t.monitors.c.name).where(t.monitors.c.name == monitor)
                    ).first()
                    if exists is None:
                        self._missing_monitor(conn, monitor)
                    seq = int(conn.execute(
                        select(func.max(mr.c.seq)).where(mr.c.monitor == monitor)
                    ).scalar() or 0) + 1
                    conn.execute(mr.insert().values(
                        monitor=monitor, seq=seq, window_start=window_start,
                        window_end=window_end, status=status, rows=rows, data=text,
                        created_at=created_at))
            except IntegrityError:
                continue  # a concurrent run took this number; take the next
            return MonitorResult(monitor, seq, window_start, window_end, status, rows,
                                 data, created_at)
        raise ConflictError(f"could not store a result of monitor {monitor!r}: too many writers")

    def list_monitor_results(self, monitor: str, limit: int | None = None
                             ) -> list[MonitorResult]:
        """The monitor's results, oldest first (the last ``limit`` when given)."""
        mr = t.monitor_results
        stmt = select(mr).where(mr.c.monitor == monitor).order_by(mr.c.seq.desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [
            MonitorResult(r.monitor, r.seq, r.window_start, r.window_end, r.status, r.rows,
                          json.loads(r.data), r.created_at)
            for r in reversed(rows)
        ]

    # -- alert rules and alerts -----------------------------------------------------------
    def save_alert_rule(self, rule: AlertRule) -> AlertRule:
        ar = t.alert_rules
        values = {"monitor": rule.monitor, "name": rule.name, "expression": rule.expression,
                  "sinks": json.dumps(list(rule.sinks)), "cooldown_ms": rule.cooldown_ms,
                  "created_at": rule.created_at}
        stmt = self._insert(ar).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["monitor", "name"],
            set_={c: getattr(stmt.excluded, c) for c in ("expression", "sinks", "cooldown_ms",
                                                         "created_at")})
        with self._write() as conn:
            if conn.execute(select(t.monitors.c.name).where(
                    t.monitors.c.name == rule.monitor)).first() is None:
                self._missing_monitor(conn, rule.monitor)
            conn.execute(stmt)
        return rule

    def list_alert_rules(self, monitor: str | None = None) -> list[AlertRule]:
        ar = t.alert_rules
        stmt = select(ar).order_by(ar.c.monitor, ar.c.name)
        if monitor is not None:
            stmt = stmt.where(ar.c.monitor == monitor)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [AlertRule(r.monitor, r.name, r.expression, tuple(json.loads(r.sinks)),
                          r.cooldown_ms, r.created_at) for r in rows]

    def delete_alert_rule(self, monitor: str, name: str) -> None:
        ar = t.alert_rules
        with self._write() as conn:
            deleted = conn.execute(
                ar.delete().where((ar.c.monitor == monitor) & (ar.c.name == name))).rowcount
            if deleted == 0:
                names = conn.execute(select(ar.c.name).where(ar.c.monitor == monitor)
                                     .order_by(ar.c.name)).scalars().all()
                raise NotFoundError(f"monitor {monitor!r} has no alert rule {name!r}; rules: "
                                    f"{', '.join(repr(n) for n in names) or 'none'}")

    def add_alert(self, alert: Alert) -> Alert:
        """Store ``alert`` (its ``alert_id`` is assigned); returns it with the id."""
        with self._write() as conn:
            result = conn.execute(t.alerts.insert().values(
                monitor=alert.monitor, rule=alert.rule, expression=alert.expression,
                value=alert.value, message=alert.message, window_seq=alert.window_seq,
                event_id=alert.event_id, sinks=json.dumps(alert.sinks),
                created_at=alert.created_at))
            key = result.inserted_primary_key
            assert key is not None
            alert_id = int(key[0])
        return Alert(alert_id, alert.monitor, alert.rule, alert.expression, alert.value,
                     alert.message, alert.window_seq, alert.created_at, alert.event_id,
                     dict(alert.sinks))

    def set_alert_delivery(self, alert_id: int, event_id: int, sinks: dict[str, str]) -> None:
        """Record where alert ``alert_id`` was sent (sink -> outcome) and its trigger event."""
        with self._write() as conn:
            conn.execute(t.alerts.update().where(t.alerts.c.alert_id == alert_id).values(
                event_id=event_id, sinks=json.dumps(sinks)))

    def list_alerts(self, monitor: str | None = None, rule: str | None = None,
                    limit: int = 1000) -> list[Alert]:
        """Alerts, newest first."""
        al = t.alerts
        stmt = select(al).order_by(al.c.alert_id.desc()).limit(limit)
        if monitor is not None:
            stmt = stmt.where(al.c.monitor == monitor)
        if rule is not None:
            stmt = stmt.where(al.c.rule == rule)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return [_alert(r) for r in rows]

    def get_alert(self, alert_id: int) -> Alert:
        with self._read() as conn:
            row = conn.execute(select(t.alerts).where(t.alerts.c.alert_id == alert_id)).first()
        if row is None:
            raise NotFoundError(f"alert {alert_id} does not exist; see `kiln alert list`")
        return _alert(row)

    # -- reference profiles -----------------------------------------------------------------
    def set_reference_profile(self, profile: ReferenceProfile) -> None:
        rp = t.reference_profiles
        stmt = self._insert(rp).values(
            model=profile.model, version=profile.version, artifact=profile.artifact,
            dataset=profile.dataset, rows=profile.rows, created_at=profile.created_at)
        stmt = stmt.on_conflict_do_update(
            index_elements=["model", "version"],
            set_={c: getattr(stmt.excluded, c) for c in ("artifact", "dataset", "rows",
                                                         "created_at")})
        with self._write() as conn:
            conn.execute(stmt)

    def get_reference_profile(self, model: str, version: int) -> ReferenceProfile | None:
        rp = t.reference_profiles
        with self._read() as conn:
            r = conn.execute(select(rp).where((rp.c.model == model) & (rp.c.version == version))
                             ).first()
        if r is None:
            return None
        return ReferenceProfile(r.model, r.version, r.artifact, r.dataset, r.rows, r.created_at)

    def _missing_monitor(self, conn: Connection, name: str) -> None:
        names = conn.execute(
            select(t.monitors.c.name).order_by(t.monitors.c.name).limit(10)).scalars().all()
        known = ", ".join(repr(n) for n in names) or "none yet"
        raise NotFoundError(f"monitor {name!r} does not exist; monitors: {known}")


def _monitor(row: Any) -> Monitor:
    return Monitor(row.name, row.deployment, row.every_ms, row.window_ms, json.loads(row.config),
                   row.user, row.created_at)


def _alert(r: Any) -> Alert:
    return Alert(r.alert_id, r.monitor, r.rule, r.expression, r.value, r.message, r.window_seq,
                 r.created_at, r.event_id, json.loads(r.sinks))
