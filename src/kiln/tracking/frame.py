"""Runs as a pandas DataFrame with MLflow's column names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from kiln.entities import Run

ATTRIBUTE_COLUMNS = [
    "run_id",
    "experiment",
    "name",
    "status",
    "start_time",
    "end_time",
    "user",
    "parent_run_id",
]


def runs_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: attributes, then ``metrics.*``, ``params.*``, ``tags.*`` (sorted)."""
    import pandas as pd

    metric_keys = sorted({k for r in runs for k in r.metrics})
    param_keys = sorted({k for r in runs for k in r.params})
    tag_keys = sorted({k for r in runs for k in r.tags})
    data: dict[str, list[Any]] = {
        "run_id": [r.run_id for r in runs],
        "experiment": [r.experiment for r in runs],
        "name": [r.name for r in runs],
        "status": [r.status.value for r in runs],
        "start_time": [r.start_time for r in runs],
        "end_time": [r.end_time for r in runs],
        "user": [r.user for r in runs],
        "parent_run_id": [r.parent_run_id for r in runs],
    }
    for k in metric_keys:
        data[f"metrics.{k}"] = [r.metrics.get(k, float("nan")) for r in runs]
    for k in param_keys:
        data[f"params.{k}"] = [r.params.get(k) for r in runs]
    for k in tag_keys:
        data[f"tags.{k}"] = [r.tags.get(k) for r in runs]
    frame = pd.DataFrame(data)
    for col in ("start_time", "end_time"):
        frame[col] = pd.to_datetime(frame[col], unit="ms", utc=True)
    return frame
