"""What a model version was trained on, read from lineage: the dataset versions that are
inputs of the run that logged it, or of the pipeline run that run is a step of."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiln.entities import ModelVersion
    from kiln.workspace import Workspace

DATASET_KIND = "dataset_version"


def training_datasets(ws: Workspace, mv: ModelVersion) -> list[str]:
    """``NAME@VERSION`` of each dataset version the version's training run (or its parent
    pipeline run) read, in the order recorded; empty when lineage records none."""
    from kiln.exceptions import NotFoundError

    if mv.run_id is None:
        return []
    found: dict[str, None] = {}
    run_id: str | None = mv.run_id
    for _ in range(3):  # the run, its pipeline run, and one more level of nesting
        if run_id is None:
            break
        for edge in ws.store.edges_to("run", run_id):
            if edge.src_kind == DATASET_KIND:
                found[edge.src_id] = None
        try:
            run_id = ws.store.get_run(run_id).parent_run_id
        except NotFoundError:
            break
    return list(found)
