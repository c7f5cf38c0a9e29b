"""Removing a data subject's rows in SQL: prediction-log batches repointed at rewritten
files, feedback rows deleted (``kiln privacy forget``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, update

from kiln.entities import PredictionLogBatch
from kiln.metadata import schema as t
from kiln.metadata.sql._base import SqlBase


class SqlPrivacy(SqlBase):
    """The privacy part of :class:`kiln.metadata.sql.SqlMetadataStore`."""

    def replace_prediction_log(self, deployment: str, artifact: str,
                               replacement: PredictionLogBatch | None) -> int:
        """Point the index entries of ``deployment``'s batch ``artifact`` at
        ``replacement`` (a rewritten file), or drop them when it is ``None`` (no row
        left); returns how many entries changed."""
        pl = t.prediction_logs
        where = (pl.c.deployment == deployment) & (pl.c.artifact == artifact)
        with self._write() as conn:
            if replacement is None:
                return int(conn.execute(delete(pl).where(where)).rowcount)
            return int(conn.execute(update(pl).where(where).values(
                artifact=replacement.artifact, rows=replacement.rows,
                start_time=replacement.start_time, end_time=replacement.end_time)).rowcount)

    def delete_feedback(self, request_ids: Sequence[str]) -> int:
        """Delete the feedback of those requests; returns how many rows went."""
        fb = t.prediction_feedback
        ids = list(dict.fromkeys(request_ids))
        done = 0
        with self._write() as conn:
            for start in range(0, len(ids), 500):
                done += int(conn.execute(delete(fb).where(
                    fb.c.request_id.in_(ids[start:start + 500]))).rowcount)
        return done
