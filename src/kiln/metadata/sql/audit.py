"""The audit log in SQL: appends inside the writer's own transaction, reads for verification.

Why the hooks live in the SQL store methods (``create_run``, ``end_run``,
``create_model_version``, ``set_alias``, ``delete_alias``) rather than in the
workspace clients: the event is written in the same transaction as the change it
records, so a change is never committed without its event (nor an event without
its change), and every path that reaches the store (the Workspace, the fluent
API, the CLI, a future REST server, another subsystem calling the store
directly) is covered without each remembering to log.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from kiln.entities import AuditEvent
from kiln.entities._audit import canonical_json, chain_hash
from kiln.exceptions import ConflictError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


# This runs inside every run create/end, so it talks to the driver directly with
# fixed SQL (qmark placeholders, rewritten once for drivers that use %s).
_HEAD_SQL = "SELECT seq, hash FROM audit_chain_head WHERE id = 1"
_INSERT_SQL = (
    'INSERT INTO audit_events (seq, actor, action, object_kind, object_id, "before", "after", '
    '"timestamp", prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
)
_MOVE_HEAD_SQL = "UPDATE audit_chain_head SET seq = ?, hash = ? WHERE id = 1"


def _sql(conn: Connection, sql: str) -> str:
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def append_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    object_kind: str,
    object_id: str,
    before: Any,
    after: Any,
    timestamp: int,
) -> AuditEvent:
    """Append one event to the chain within the caller's open write transaction.

    The chain head row is locked first (``FOR UPDATE``; a no-op on SQLite, where
    ``BEGIN IMMEDIATE`` already holds the write lock), so concurrent writers take
    turns and each event links to the one committed just before it.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    locking = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""
    cursor.execute(_HEAD_SQL + locking)
    head = cursor.fetchone()
    if head is None:
        raise ConflictError("the audit chain head row is missing; run `kiln audit verify`")
    head_seq, head_hash = int(head[0]), str(head[1])
    # Round-trip through JSON so the hashed values are exactly what a reader gets back.
    before = _roundtrip(before)
    after = _roundtrip(after)
    seq = head_seq + 1
    fields = {
        "seq": seq,
        "actor": actor,
        "action": action,
        "object_kind": object_kind,
        "object_id": object_id,
        "before": before,
        "after": after,
        "timestamp": timestamp,
        "prev_hash": head_hash,
    }
    digest = chain_hash(head_hash, fields)
    cursor.execute(_sql(conn, _INSERT_SQL), (
        seq, actor, action, object_kind, object_id,
        None if before is None else canonical_json(before),
        None if after is None else canonical_json(after),
        timestamp, head_hash, digest,
    ))
    cursor.execute(_sql(conn, _MOVE_HEAD_SQL), (seq, digest))
    return AuditEvent(seq, actor, action, object_kind, object_id, before, after, timestamp,
                      head_hash, digest)


def _roundtrip(value: Any) -> Any:
    return None if value is None else json.loads(canonical_json(value))


class SqlAudit(SqlBase):
    """The audit part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def append_audit_event(
        self,
        actor: str,
        action: str,
        object_kind: str,
        object_id: str,
        before: Any,
        after: Any,
        timestamp: int,
    ) -> AuditEvent:
        with self._write() as conn:
            return append_audit(conn, actor=actor, action=action, object_kind=object_kind,
                                object_id=object_id, before=before, after=after,
                                timestamp=timestamp)

    def list_audit_events(
        self,
        *,
        object_kind: str | None = None,
        object_id: str | None = None,
        action: str | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[AuditEvent]:
        e = t.audit_events
        stmt = select(e).where(e.c.seq > after_seq)
        if object_kind is not None:
            stmt = stmt.where(e.c.object_kind == object_kind)
        if object_id is not None:
            # "churn-clf" also matches its versions "churn-clf/3".
            stmt = stmt.where(or_(e.c.object_id == object_id,
                                  e.c.object_id.startswith(object_id + "/", autoescape=True)))
        if action is not None:
            stmt = stmt.where(e.c.action == action)
        with self._read() as conn:
            rows = conn.execute(stmt.order_by(e.c.seq).limit(limit)).all()
        return [_event(r) for r in rows]

    def audit_head(self) -> tuple[int, str]:
        h = t.audit_chain_head
        with self._read() as conn:
            row = conn.execute(select(h.c.seq, h.c.hash).where(h.c.id == 1)).first()
        if row is None:
            return (-1, "")
        return (int(row.seq), str(row.hash))


def _event(r: Any) -> AuditEvent:
    return AuditEvent(
        seq=int(r.seq),
        actor=r.actor,
        action=r.action,
        object_kind=r.object_kind,
        object_id=r.object_id,
        before=None if r.before is None else json.loads(r.before),
        after=None if r.after is None else json.loads(r.after),
        timestamp=int(r.timestamp),
        prev_hash=r.prev_hash,
        hash=r.hash,
    )
