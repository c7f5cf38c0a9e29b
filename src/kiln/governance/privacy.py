"""Data subject requests: ``kiln privacy forget --key customer_id=123``.

Each subsystem that keeps rows about people has a *forgetter* in :data:`FORGETTERS`
(more through the ``kiln.forgetters`` entry points):

* ``predictions`` — prediction-log batches with a request that mentions the key are
  rewritten as new Parquet files without those requests and the index is repointed
  (old -> new recorded in the audit event; the old file is deleted from a local
  artifact store); the feedback of those requests and feedback that names the key go;
* ``online_features`` — the subject's row of every feature view keyed by that column,
  in the SQLite or Redis online store;
* ``datasets`` — a new version of each dataset whose latest version holds the subject,
  without those rows (recorded in its description and the audit event); older versions
  are immutable and are listed for removal, never rewritten;
* ``tracking`` — run params, tags and CSV artifacts are immutable (content-addressed):
  listed for removal, not rewritten.

The request is audit-logged with the key's value hashed, so the log itself does not
retain the identifier.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from kiln._plugins import available, load_plugin
from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.workspace import Workspace

FORGETTERS: dict[str, str] = {
    "predictions": "kiln.governance.forget:PredictionsForgetter",
    "online_features": "kiln.governance.forget:OnlineFeaturesForgetter",
    "datasets": "kiln.governance.forget:DatasetsForgetter",
    "tracking": "kiln.governance.privacy:TrackingForgetter",
}
GROUP = "kiln.forgetters"
_MAX_SCAN_BYTES = 50 * 1024 * 1024


@dataclass
class ForgetReport:
    """What one forgetter removed, and what it found but cannot remove (with why)."""

    forgetter: str
    removed: list[str] = field(default_factory=list)
    needs_removal: list[str] = field(default_factory=list)
    note: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)  # for the audit event


class Forgetter(Protocol):
    """Removes (or reports) a data subject's rows in one subsystem."""

    def forget(self, ws: Workspace, key: str, value: str, *, dry_run: bool) -> ForgetReport: ...


def parse_key(text: str) -> tuple[str, str]:
    """``customer_id=123`` -> ``("customer_id", "123")``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise InvalidArgumentError(f"--key {text!r} is not accepted; give COLUMN=VALUE, "
                                   "e.g. customer_id=123")
    return key.strip(), value.strip()


def forget(ws: Workspace, key: str, value: str, *, dry_run: bool = False
           ) -> list[ForgetReport]:
    """Run every registered forgetter and audit-log the request."""
    from kiln._time import now_ms

    reports = []
    for name in sorted(available(GROUP, FORGETTERS)):
        forgetter: Forgetter = load_plugin(GROUP, FORGETTERS, name, what="forgetter")()
        reports.append(forgetter.forget(ws, key, value, dry_run=dry_run))
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]
    if not dry_run:
        ws.store.append_audit_event(
            ws.user, "privacy.forget", "data_subject", f"{key}:sha256:{digest}", None,
            {r.forgetter: {"removed": len(r.removed), "needs_removal": len(r.needs_removal),
                           "changes": r.changes}
             for r in reports}, now_ms())
    return reports


class TrackingForgetter:
    """Finds the subject in run params/tags and in CSV artifacts of runs (immutable:
    reported for removal by deleting the run, never rewritten in place)."""

    def forget(self, ws: Workspace, key: str, value: str, *, dry_run: bool) -> ForgetReport:
        report = ForgetReport("tracking", note="tracking records and artifacts are immutable "
                                               "(content-addressed); listed, not removed")
        for run in ws.search_run_objects(max_results=100_000):
            for where, mapping in (("param", run.params), ("tag", run.tags)):
                if mapping.get(key) == value:
                    report.needs_removal.append(f"run {run.run_id} {where} {key}")
            for art in ws.list_artifacts(run.run_id):
                if art.path.endswith(".csv") and art.size <= _MAX_SCAN_BYTES:
                    rows = _matching_rows(ws, art.sha256, key, value)
                    if rows:
                        report.needs_removal.append(
                            f"run {run.run_id} artifact {art.path}: {rows} row(s)")
        return report


def _matching_rows(ws: Workspace, sha256: str, key: str, value: str) -> int:
    import io

    import pandas as pd

    data = ws.artifacts.get_bytes(sha256)
    try:
        header = pd.read_csv(io.BytesIO(data), nrows=0)
        if key not in header.columns:
            return 0
        column: Any = pd.read_csv(io.BytesIO(data), usecols=[key], dtype=str)[key]
    except (ValueError, pd.errors.ParserError):
        return 0
    return int((column.str.strip() == value).sum())
