"""The data stage of ``kiln demo``: version the breast cancer data, validate a new batch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from kiln.data.validation import ValidationReport
    from kiln.entities import DatasetVersion
    from kiln.workspace import Workspace

DATASET = "breast-cancer"


@dataclass
class DataStageResult:
    """What the data stage made."""

    reference: DatasetVersion
    batch: DatasetVersion
    report: ValidationReport
    report_path: Path


def version_and_validate(ws: Workspace, console: Console, frame: pd.DataFrame
                         ) -> DataStageResult:
    """Add 80% of ``frame``'s rows (shuffled) as version 1 of the dataset, the rest as version 2,
    and validate version 2 against version 1 (schema and drift)."""
    from kiln.data.report import render_html
    from kiln.data.schema import Schema
    from kiln.data.validation import validate

    folder = ws.settings.home / "demo-data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "breast_cancer.parquet"
    shuffled = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(len(shuffled) * 0.8)
    reference_df, batch_df = shuffled.iloc[:cut], shuffled.iloc[cut:].reset_index(drop=True)
    reference_df.to_parquet(path, index=False)
    reference = ws.add_dataset(path, DATASET, description="reference: 80% of the rows")
    batch_df.to_parquet(path, index=False)
    batch = ws.add_dataset(path, DATASET, description="new batch: the other 20%")
    console.print(
        f"[bold]1a. Data versions[/]: {reference.ref} ({reference.rows} rows) and {batch.ref} "
        f"({batch.rows} rows) stored by content, pointer {path.name}.kiln"
    )
    assert reference.schema is not None
    schema = Schema.from_dict(reference.schema)
    report = validate(ws.dataset_frame(batch), schema, reference=ws.dataset_frame(reference))
    report_path = ws.settings.home / f"validation-{DATASET}-{batch.version}.html"
    report_path.write_text(render_html(report, batch_df, reference_df,
                                       title=f"Validation of {batch.ref} against "
                                             f"{reference.ref}"))
    drifted = sorted(a.column or "" for a in report.anomalies if a.kind == "drift")
    console.print(
        f"[bold]1b. Validation[/]: {batch.ref} against {reference.ref}: "
        f"{'passed' if report.ok else 'FAILED'} with {len(report.errors)} errors and "
        f"{len(report.warnings)} warnings"
        + (f" (drift in {', '.join(drifted[:3])}{'...' if len(drifted) > 3 else ''})"
           if drifted else "")
        + f"; report {report_path}"
    )
    return DataStageResult(reference, batch, report, report_path)
