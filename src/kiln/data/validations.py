"""Validation reports stored with the dataset version they checked.

A report is kept as a tracked run of the experiment ``kiln-validations`` (tags
``kiln.dataset`` = ``NAME@VERSION`` and ``kiln.against``; metrics ``errors`` and
``warnings``; the full report as ``validation.json``), linked to the version by a
lineage edge ``dataset_version -> run (validated_by)``. ``kiln data validate`` and
``kiln.data.validate`` on a dataset reference record one; promotion gates and model
cards read them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.data.validation import ValidationReport
    from kiln.entities import DatasetVersion
    from kiln.workspace import Workspace

EXPERIMENT = "kiln-validations"
REPORT_FILE = "validation.json"


@dataclass(frozen=True)
class StoredValidation:
    """A validation report as stored: which version, against what, its counts and when."""

    dataset: str
    against: str | None
    errors: int
    warnings: int
    rows: int
    run_id: str
    created_at: int
    report: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.errors == 0


def record_validation(ws: Workspace, dv: DatasetVersion, report: ValidationReport,
                      against: str | None = None) -> StoredValidation:
    """Store ``report`` as the validation of ``dv`` (``against``: the reference used)."""
    from kiln.entities import LineageEdge

    tags = {"kiln.dataset": dv.ref, "kiln.against": against or ""}
    run = ws.create_run(EXPERIMENT, name=f"validate-{dv.name}-v{dv.version}", tags=tags)
    data = report.to_dict()
    ws.log_batch(run.run_id, metrics={"errors": float(len(report.errors)),
                                      "warnings": float(len(report.warnings))},
                 params={"rows": report.rows, "columns": report.columns})
    ws.log_text(run.run_id, json.dumps(data, default=str), REPORT_FILE)
    ws.end_run(run.run_id)
    ws.store.add_edges([LineageEdge("dataset_version", dv.ref, "run", run.run_id,
                                    "validated_by", run.start_time)])
    return StoredValidation(dv.ref, against, len(report.errors), len(report.warnings),
                            report.rows, run.run_id, run.start_time, data)


def stored_validations(ws: Workspace, ref: str) -> list[StoredValidation]:
    """Every stored validation of dataset version ``ref`` (``NAME@VERSION``), newest first."""
    from kiln.exceptions import NotFoundError

    quoted = ref.replace("'", "''")
    try:
        runs = ws.search_run_objects(EXPERIMENT, filter=f"tags.`kiln.dataset` = '{quoted}'",
                                     order_by=["start_time DESC"])
    except NotFoundError:
        return []
    out = []
    for run in runs:
        arts = {a.path: a for a in ws.list_artifacts(run.run_id)}
        art = arts.get(REPORT_FILE)
        if art is None:
            continue
        data = json.loads(ws.artifacts.get_bytes(art.sha256))
        out.append(StoredValidation(ref, run.tags.get("kiln.against") or None,
                                    int(data.get("errors", 0)), int(data.get("warnings", 0)),
                                    int(data.get("rows", 0)), run.run_id, run.start_time, data))
    return out
