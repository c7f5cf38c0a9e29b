"""Reference profiles: the compact statistics of a model version's training data and of
its predictions on it, computed once and stored as an artifact linked to the version.

Drift is measured against the stored profile, never by re-reading the training data,
so monitoring costs the same whatever the size of the training set.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import LineageEdge, ReferenceProfile
from kiln.exceptions import InvalidArgumentError, KilnError, NotFoundError

if TYPE_CHECKING:
    from kiln.entities import ModelVersion
    from kiln.monitoring.profile import Profile
    from kiln.workspace import Workspace

PREDICTION_COLUMN = "prediction"


@dataclass(frozen=True)
class Reference:
    """A loaded reference: the features' profile, the predictions' profile, where from."""

    model: str
    version: int
    dataset: str
    rows: int
    columns: list[str]
    features: Profile
    predictions: Profile


def training_dataset(ws: Workspace, mv: ModelVersion, max_nodes: int = 200) -> str | None:
    """The dataset version the model version was trained on: the nearest
    ``dataset_version`` upstream of it in the lineage (through its run, the run's parent
    pipeline steps and their input artifacts), or ``None``."""
    start = ("model_version", f"{mv.name}/{mv.version}")
    seen = {start}
    queue = deque([start])
    while queue and len(seen) < max_nodes:
        kind, oid = queue.popleft()
        nxt = [(e.src_kind, e.src_id) for e in ws.store.edges_to(kind, oid)]
        if kind == "run":  # a tracked run inside a pipeline step: go to the step run
            try:
                parent = ws.store.get_run(oid).parent_run_id
            except KilnError:
                parent = None
            if parent:
                nxt.append(("run", parent))
        if kind == "artifact":  # a step output: the step run that produced it
            nxt += [(e.src_kind, e.src_id) for e in ws.store.edges_to(kind, oid)
                    if e.relation == "produced"]
        for node in nxt:
            if node[0] == "dataset_version":
                return node[1]
            if node not in seen:
                seen.add(node)
                queue.append(node)
    return None


def feature_names(mv: ModelVersion) -> list[str]:
    return [str(c["name"]) for c in (mv.signature.inputs if mv.signature else []) if "name" in c]


def build_reference(ws: Workspace, model: str, version: int | str, *,
                    dataset: str | None = None, label: str | None = None) -> ReferenceProfile:
    """Profile model ``model`` version ``version``'s training data (``dataset``, by default
    found in the lineage) and its predictions on it; store and link the profile."""
    import pandas as pd

    from kiln.monitoring.profile import Profile

    mv = ws.get_model_version(model, version)
    ref = dataset or training_dataset(ws, mv)
    if ref is None:
        raise NotFoundError(
            f"model {mv.name} version {mv.version} has no training dataset in its lineage; "
            f"name one: kiln monitor profile {mv.name}@{mv.version} --dataset NAME@VERSION")
    dv = ws.dataset_version(ref)
    frame = ws.dataset_frame(dv)
    names = feature_names(mv) or [c for c in frame.columns if c != label]
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise InvalidArgumentError(
            f"dataset {dv.ref} lacks the model's input column(s) {', '.join(missing[:5])}; "
            f"give the training dataset of {mv.name} version {mv.version} with --dataset")
    features = frame[names]
    loaded = ws.load_model(f"models:/{mv.name}/{mv.version}")
    predictions = pd.DataFrame({PREDICTION_COLUMN: list(loaded.predict(features))})
    body = {
        "model": mv.name, "version": mv.version, "dataset": dv.ref, "rows": len(frame),
        "columns": names,
        "features": Profile.from_frame(features).to_dict(),
        "predictions": Profile.from_frame(predictions).to_dict(),
    }
    stored = ws.artifacts.put_bytes(json.dumps(body, default=_jsonable).encode())
    at = now_ms()
    profile = ReferenceProfile(mv.name, mv.version, stored.sha256, dv.ref, len(frame), at)
    ws.store.set_reference_profile(profile)
    ws.store.add_edges([
        LineageEdge("dataset_version", dv.ref, "artifact", stored.sha256, "profiled", at),
        LineageEdge("artifact", stored.sha256, "model_version", f"{mv.name}/{mv.version}",
                    "reference_profile", at),
    ])
    return profile


def load_reference(ws: Workspace, model: str, version: int, *, compute: bool = True
                   ) -> Reference:
    """The stored reference of ``model`` version ``version`` (computed and stored first
    when there is none and ``compute``)."""
    from kiln.monitoring.profile import Profile

    found = ws.store.get_reference_profile(model, version)
    if found is None:
        if not compute:
            raise NotFoundError(f"model {model} version {version} has no reference profile; "
                                f"compute it: kiln monitor profile {model}@{version}")
        found = build_reference(ws, model, version)
    body = json.loads(ws.artifacts.get_bytes(found.artifact))
    return Reference(found.model, found.version, found.dataset, found.rows,
                     list(body["columns"]), Profile.from_dict(body["features"]),
                     Profile.from_dict(body["predictions"]))


def _jsonable(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    return str(value)
