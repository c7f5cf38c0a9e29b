"""Sweep journals in SQL: one gap-free numbered sequence of entries per sweep."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from kiln.exceptions import InvalidArgumentError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class SqlSweeps(SqlBase):
    """The sweep part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def append_sweep_entries(self, sweep: str, entries: Sequence[str], created_at: int
                             ) -> None:
        """Append ``entries`` to the journal of ``sweep`` (created on first use)."""
        if not sweep or len(sweep) > 255:
            raise InvalidArgumentError(f"sweep name {sweep!r} is not accepted; give 1-255 chars")
        if not entries:
            return
        with self._write() as conn:
            conn.execute(self._insert(t.sweeps).values(name=sweep, created_at=created_at)
                         .on_conflict_do_nothing())
            # The sweep's row is locked, so concurrent writers number entries in turn.
            start = self._next_seq(conn, sweep)
            conn.execute(t.sweep_journal.insert(), [
                {"sweep": sweep, "seq": start + i, "entry": e} for i, e in enumerate(entries)
            ])

    @staticmethod
    def _next_seq(conn: Connection, sweep: str) -> int:
        conn.execute(select(t.sweeps.c.name).where(t.sweeps.c.name == sweep).with_for_update())
        latest = conn.execute(
            select(func.max(t.sweep_journal.c.seq)).where(t.sweep_journal.c.sweep == sweep)
        ).scalar()
        return 0 if latest is None else int(latest) + 1

    def read_sweep_entries(self, sweep: str, start: int = 0) -> list[str]:
        """The entries of ``sweep`` numbered ``start`` and after, in order ([] if none)."""
        with self._read() as conn:
            rows = conn.execute(
                select(t.sweep_journal.c.entry)
                .where(t.sweep_journal.c.sweep == sweep, t.sweep_journal.c.seq >= start)
                .order_by(t.sweep_journal.c.seq)
            )
            return [r[0] for r in rows]

    def list_sweeps(self) -> list[tuple[str, int]]:
        """``(name, created_at)`` of every sweep, oldest first."""
        with self._read() as conn:
            rows = conn.execute(select(t.sweeps.c.name, t.sweeps.c.created_at)
                                .order_by(t.sweeps.c.created_at, t.sweeps.c.name))
            return [(r[0], int(r[1])) for r in rows]
