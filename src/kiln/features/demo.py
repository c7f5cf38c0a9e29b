"""The feature-store stage of ``kiln demo``: the training set comes from a feature view.

Each breast-cancer row becomes a patient (``patient_id``) measured at an event
time; a later follow-up measurement is added after the label was taken, so the
point-in-time join has something to leave out. The stage registers the view,
materializes it, builds the training set as of each label's time and does one
online lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from kiln.workspace import Workspace

VIEW = "patient_measurements"


@dataclass(frozen=True)
class FeatureStageResult:
    """What the stage built: the training frame's features and labels, and checks."""

    X: pd.DataFrame
    y: pd.Series
    view_version: int
    leaked_rows: int
    online_patient: int
    online_age_seconds: float | None


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def build_training_set(ws: Workspace, console: Console, X: pd.DataFrame, y: pd.Series
                       ) -> FeatureStageResult:
    """Write ``X`` as a Parquet feature source, register and materialize a view over it and
    return the point-in-time training set built from it (same rows and order as ``X``)."""
    import numpy as np
    import pandas as pd

    from kiln.features import Entity, Feature, FeatureView

    folder = ws.settings.home / "demo-features"
    folder.mkdir(parents=True, exist_ok=True)
    X = X.rename(columns=_snake)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    n = len(X)
    # One measurement per patient in the last 30 days (distinct seconds), labelled an hour
    # later; a follow-up two hours after the label must not reach the training set.
    rng = np.random.default_rng(0)
    measured = now - pd.to_timedelta(rng.choice(30 * 86400, n, replace=False) + 4 * 3600,
                                     unit="s")
    patients = np.arange(n, dtype=np.int64)
    first = X.assign(patient_id=patients, event_timestamp=measured)
    follow_up = (X * 1.1).assign(patient_id=patients,
                                 event_timestamp=measured + pd.Timedelta(hours=3))
    source = folder / "measurements.parquet"
    pd.concat([first, follow_up], ignore_index=True).to_parquet(source, index=False)

    patient = Entity("patient", join_keys=["patient_id"])
    view = FeatureView(VIEW, entities=[patient], source=source,
                       features=[Feature(c, "float64") for c in X.columns],
                       ttl=timedelta(days=60), description="breast-cancer measurements")
    report = ws.apply_features([patient, view])
    version = ws.get_feature_view(VIEW).version
    [mat] = ws.materialize([VIEW])
    labels = pd.DataFrame({"patient_id": patients,
                           "event_timestamp": measured + pd.Timedelta(hours=1),
                           "target": y.to_numpy()})
    training = ws.get_training_set(labels, [f"{VIEW}:{c}" for c in X.columns])
    X_feat = training[list(X.columns)]
    X_feat.index = X.index
    leaked = int((~np.isclose(X_feat.to_numpy(), X.to_numpy())).any(axis=1).sum())
    online = ws.get_online_features([{"patient_id": 0}], [f"{VIEW}:{X.columns[0]}"])
    age = online.age_seconds[X.columns[0]][0]
    status = ", ".join(c.status for c in report.changes if c.kind == "feature_view")
    console.print(
        f"[bold]Features[/]: view {VIEW!r} v{version} ({status}) over {2 * n} measurements, "
        f"{mat.rows} patients materialized online; point-in-time training set of {len(X_feat)} "
        f"rows ({leaked} with leaked follow-up values); online lookup of patient 0: "
        f"{X.columns[0]}={online.values[X.columns[0]][0]:.3f}, "
        f"{age / 3600 if age is not None else float('nan'):.1f} h old"
    )
    y_out = pd.Series(training["target"].to_numpy(), index=y.index, name=y.name)
    return FeatureStageResult(X_feat, y_out, version, leaked, 0, age)


def demo_stage(ws: Workspace, console: Console, X: Any, y: Any) -> tuple[Any, Any]:
    """``kiln demo``'s hook: the features and labels to train on, built from the view."""
    result = build_training_set(ws, console, X, y)
    return result.X, result.y
