"""Validation reports as the governance gates and model cards read them.

``kiln data validate`` and ``kiln.data.validate`` on a dataset reference store the report
with the version (:meth:`kiln.data.client.DataClient.record_validation`: the report in the
artifact store, a lineage edge from the version); this module gives them back typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.workspace import Workspace


@dataclass(frozen=True)
class StoredValidation:
    """A validation report as stored: which version, against what, its counts and when."""

    dataset: str
    against: str | None
    errors: int
    warnings: int
    rows: int
    id: str
    created_at: int
    report: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.errors == 0


def stored_validations(ws: Workspace, ref: str) -> list[StoredValidation]:
    """Every stored validation of dataset version ``ref`` (``NAME@VERSION``), newest first."""
    from kiln.data.client import validation_reports

    return [
        StoredValidation(ref, body.get("against") or None, int(body.get("errors", 0)),
                         int(body.get("warnings", 0)), int(body.get("rows", 0)), body["id"],
                         int(body.get("at", 0)), body)
        for body in validation_reports(ws.store, ws.artifacts, ref)
    ]
