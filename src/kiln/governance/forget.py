"""The forgetters that remove a data subject's rows: prediction logs and feedback, online
features, and dataset versions (see :mod:`kiln.governance.privacy`)."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.governance.privacy import ForgetReport

if TYPE_CHECKING:
    import pandas as pd

    from kiln.workspace import Workspace

_MAX_DATASET_BYTES = 200 * 1024 * 1024


def mentions(obj: Any, key: str, value: str) -> bool:
    """Whether a JSON request body names ``key`` = ``value``: a record ``{key: value}``
    anywhere, a column ``{key: [..., value]}``, or the split form ``{"columns": [...,
    key], "data": [[..., value]]}``."""
    if isinstance(obj, dict):
        columns, data = obj.get("columns"), obj.get("data")
        if isinstance(columns, list) and key in columns and isinstance(data, list):
            at = columns.index(key)
            if any(isinstance(row, list) and len(row) > at and _equal(row[at], value)
                   for row in data):
                return True
        for k, v in obj.items():
            if k == key and (_equal(v, value) or (isinstance(v, list)
                                                  and any(_equal(x, value) for x in v))):
                return True
            if isinstance(v, dict | list) and mentions(v, key, value):
                return True
    elif isinstance(obj, list):
        return any(mentions(x, key, value) for x in obj)
    return False


def _equal(cell: Any, value: str) -> bool:
    if isinstance(cell, dict | list) or cell is None:
        return False
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip() == value


def matching_rows(frame: pd.DataFrame, key: str, value: str) -> Any:
    """A boolean mask of ``frame``'s rows whose ``key`` column equals ``value``."""
    import pandas as pd

    column = frame[key]
    mask = column.astype(str).str.strip() == value
    if pd.api.types.is_numeric_dtype(column):
        with contextlib.suppress(ValueError):
            mask |= column == float(value)
    return mask.fillna(False).to_numpy(dtype=bool)


class PredictionsForgetter:
    """Rewrites prediction-log batches without the subject's requests and deletes the
    feedback of those requests (and feedback whose extra fields name the key)."""

    def forget(self, ws: Workspace, key: str, value: str, *, dry_run: bool) -> ForgetReport:
        report = ForgetReport("predictions")
        store: Any = ws.store
        if not hasattr(store, "replace_prediction_log"):
            report.note = "this metadata store cannot rewrite prediction logs; run it where " \
                          "the database is"
            return report
        deployments = sorted({d.name for d in store.list_deployments()})
        for deployment in deployments:
            request_ids: list[str] = []
            for batch in store.list_prediction_logs(deployment):
                request_ids += self._batch(ws, report, batch, key, value, dry_run)
            extra = [f.request_id for f in store.get_feedback(deployment)
                     if mentions(f.extra, key, value) or f.request_id in request_ids]
            if extra:
                done = len(set(extra)) if dry_run else store.delete_feedback(extra)
                if done:
                    report.removed.append(f"deployment {deployment}: {done} feedback row(s)")
                    report.changes.append({"deployment": deployment, "feedback_deleted": done})
        return report

    def _batch(self, ws: Workspace, report: ForgetReport, batch: Any, key: str, value: str,
               dry_run: bool) -> list[str]:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from kiln._time import now_ms
        from kiln.entities import PredictionLogBatch

        table = pq.read_table(io.BytesIO(ws.artifacts.get_bytes(batch.artifact)))
        hits = [mentions(_json(text), key, value) for text in table["inputs"].to_pylist()]
        if not any(hits):
            return []
        gone = [rid for rid, hit in zip(table["request_id"].to_pylist(), hits, strict=True)
                if hit]
        where = f"deployment {batch.deployment} prediction log {batch.artifact[:12]}"
        if dry_run:
            report.removed.append(f"{where}: {len(gone)} request(s) (dry run)")
            return gone
        kept = table.filter(pa.array([not h for h in hits]))
        replacement = None
        if kept.num_rows:
            sink = io.BytesIO()
            pq.write_table(kept, sink, compression="zstd")
            stored = ws.artifacts.put_bytes(sink.getvalue())
            times = kept["timestamp"]
            replacement = PredictionLogBatch(batch.deployment, stored.sha256, kept.num_rows,
                                             pc.min(times).as_py(), pc.max(times).as_py(),
                                             now_ms())
        ws.store.replace_prediction_log(  # type: ignore[attr-defined]
            batch.deployment, batch.artifact, replacement)
        deleted = _delete_local(ws, batch.artifact)
        new = replacement.artifact if replacement else None
        report.removed.append(
            f"{where}: {len(gone)} request(s); rewritten as "
            f"{new[:12] if new else 'nothing (no row left)'}"
            + ("" if deleted else "; the old file stays in the (remote) artifact store"))
        report.changes.append({"deployment": batch.deployment, "old": batch.artifact,
                               "new": new, "rows_removed": len(gone),
                               "old_file_deleted": deleted})
        return gone


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _delete_local(ws: Workspace, sha256: str) -> bool:
    """Remove an object from a local artifact store, loose or packed (others have no
    delete)."""
    delete = getattr(ws.artifacts, "delete", None)
    if delete is None:
        return False
    delete(sha256)
    return True


class OnlineFeaturesForgetter:
    """Deletes the subject's row from every feature view keyed by the key's column alone;
    views with a composite key that includes it are listed for removal."""

    def forget(self, ws: Workspace, key: str, value: str, *, dry_run: bool) -> ForgetReport:
        from kiln.features.online.codec import encode_scalar

        report = ForgetReport("online_features")
        keys = [encode_scalar(value)]
        if value.lstrip("-").isdigit():
            keys.insert(0, encode_scalar(int(value)))
        for definition in ws.list_feature_views():
            view = ws.get_feature_view(definition.name).view
            if key not in view.join_keys:
                continue
            if len(view.join_keys) > 1:
                report.needs_removal.append(
                    f"feature view {view.name}: composite key {', '.join(view.join_keys)} "
                    "(drop the view's rows with `kiln features materialize` after removing "
                    "the subject from its source)")
                continue
            store = ws.online_store
            found = [k for k, row in zip(keys, store.read(view.name, keys), strict=True)
                     if row is not None]
            if not found:
                continue
            done = len(found) if dry_run else store.delete(view.name, found)
            report.removed.append(f"online store {store.url} view {view.name}: {done} row(s)"
                                  + (" (dry run)" if dry_run else ""))
            report.changes.append({"view": view.name, "rows_deleted": done})
        if report.removed or report.needs_removal:
            report.note = ("offline sources of the views are not kiln's: remove the subject "
                           "there too, or the next materialization brings the row back")
        return report


class DatasetsForgetter:
    """Writes a new version, without the subject's rows, of each dataset whose latest
    version (one tabular file) holds them; older versions are immutable and listed."""

    def forget(self, ws: Workspace, key: str, value: str, *, dry_run: bool) -> ForgetReport:
        report = ForgetReport("datasets", note="older versions are immutable snapshots: they "
                                               "are listed, never rewritten")
        for name in ws.datasets():
            versions = ws.dataset_versions(name)
            for dv in versions:
                frame = _table(ws, dv)
                if frame is None or key not in frame.columns:
                    continue
                mask = matching_rows(frame, key, value)
                count = int(mask.sum())
                if not count:
                    continue
                if dv.version != versions[-1].version:
                    report.needs_removal.append(f"dataset {dv.ref}: {count} row(s) (an older "
                                                "version)")
                    continue
                if dry_run:
                    report.removed.append(f"dataset {dv.ref}: {count} row(s) (dry run)")
                    continue
                new = _new_version(ws, dv, frame[~mask], count)
                report.removed.append(f"dataset {dv.ref}: {count} row(s); new version "
                                      f"{new.ref} without them")
                report.changes.append({"dataset": name, "old": dv.ref, "new": new.ref,
                                       "rows_removed": count})
        return report


def _table(ws: Workspace, dv: Any) -> pd.DataFrame | None:
    """The version as a DataFrame when it is one table kiln can read, else ``None``."""
    if dv.kind != "file" or dv.rows is None or dv.size > _MAX_DATASET_BYTES:
        return None
    data = ws.load_dataset(dv)
    return None if isinstance(data, Path) else data


def _new_version(ws: Workspace, dv: Any, kept: pd.DataFrame, removed: int) -> Any:
    from kiln.data.snapshot import load_manifest

    fname = next(iter(load_manifest(ws.artifacts, dv.tree)))
    with tempfile.TemporaryDirectory(prefix="kiln-forget-") as tmp:
        path = Path(tmp) / Path(fname).name
        _write_like(kept, path)
        return ws.add_dataset(path, dv.name, pointer=False, description=(
            f"{dv.ref} without {removed} row(s) of a data subject (kiln privacy forget)"))


def _write_like(frame: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix in (".jsonl", ".ndjson"):
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_csv(path, index=False)
