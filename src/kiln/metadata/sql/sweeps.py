"""Sweep journals in SQL: one gap-free numbered sequence of entries per sweep."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select

from kiln.exceptions import InvalidArgumentError
from kiln.metadata import schema as t
from kiln.metadata.sql._base import Prepared, SqlBase


class SqlSweeps(SqlBase):
    """The sweep part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def append_sweep_entries(self, sweep: str, entries: Sequence[str], created_at: int
                             ) -> None:
        """Append ``entries`` to the journal of ``sweep`` (created on first use)."""
        if not sweep or len(sweep) > 255:
            raise InvalidArgumentError(f"sweep name {sweep!r} is not accepted; give 1-255 chars")
        if not entries:
            return
        upsert, insert = self._sweep_writes()
        with self._write() as conn:
            # One statement creates the sweep or moves its counter, returning where this
            # batch ends; the row stays locked until commit, so appends number in turn
            # (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers).
            n = len(entries)
            end = upsert.execute(conn, {"name": sweep, "created_at": created_at, "n": n,
                                        "n_more": n}).fetchone()[0]
            insert.executemany(conn, [{"sweep": sweep, "seq": int(end) - n + i, "entry": e}
                                      for i, e in enumerate(entries)])

    def _sweep_writes(self) -> tuple[Prepared, Prepared]:
        # Compiled once: Optuna appends to the journal at every reported step.
        writes: tuple[Prepared, Prepared] | None = self.__dict__.get("_sweep_writes_")
        if writes is None:
            upsert = self._insert(t.sweeps).values(
                name=bindparam("name"), created_at=bindparam("created_at"),
                next_seq=bindparam("n"),
            ).on_conflict_do_update(
                index_elements=[t.sweeps.c.name],
                set_={"next_seq": t.sweeps.c.next_seq + bindparam("n_more")},
            ).returning(t.sweeps.c.next_seq)
            writes = self.__dict__["_sweep_writes_"] = (
                Prepared(upsert, self.engine.dialect),
                Prepared(t.sweep_journal.insert(), self.engine.dialect,
                         ["sweep", "seq", "entry"]),
            )
        return writes

    def read_sweep_entries(self, sweep: str, start: int = 0) -> list[str]:
        """The entries of ``sweep`` numbered ``start`` and after, in order ([] if none)."""
        prepared: Prepared | None = self.__dict__.get("_sweep_read")
        if prepared is None:
            j = t.sweep_journal
            prepared = self.__dict__["_sweep_read"] = Prepared(
                select(j.c.entry).where(j.c.sweep == bindparam("sweep"),
                                        j.c.seq >= bindparam("start")).order_by(j.c.seq),
                self.engine.dialect)
        # Straight to the driver, in one statement: Optuna reads the journal before nearly
        # every operation, and SQLAlchemy's per-call work costs 20 times the query's.
        raw = self.engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(prepared.sql, prepared._row({"sweep": sweep, "start": start}))
            return [r[0] for r in cursor.fetchall()]
        finally:
            raw.close()

    def list_sweeps(self) -> list[tuple[str, int]]:
        """``(name, created_at)`` of every sweep, oldest first."""
        with self._read() as conn:
            rows = conn.execute(select(t.sweeps.c.name, t.sweeps.c.created_at)
                                .order_by(t.sweeps.c.created_at, t.sweeps.c.name))
            return [(r[0], int(r[1])) for r in rows]
