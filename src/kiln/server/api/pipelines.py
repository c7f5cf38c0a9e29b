"""REST API of pipelines: runs and step runs (read), and the
:class:`kiln.metadata.base.PipelineStore` calls (step cache, step-run writes, triggers,
their fires and events, leases)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kiln.entities import TriggerRecord
from kiln.exceptions import InvalidArgumentError
from kiln.metadata import wire
from kiln.metadata.base import RunQuery
from kiln.metadata.filters import Clause, OrderKey
from kiln.server.api._common import Int, Limit, Name, Offset, page, store
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["pipelines"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]
Key = Annotated[str, Field(min_length=1, max_length=255)]
Status = Literal["RUNNING", "FINISHED", "FAILED", "KILLED"]
_TYPE_TAG = "kiln.type"  # kiln.pipelines.runner.PIPELINE_TAG, without importing the runner


class CacheIn(BaseModel):
    cache_key: Key
    step_run_id: Key
    outputs: list[tuple[str, str, Int]]
    created_at: Int


class CacheKeysIn(BaseModel):
    keys: list[Key] = Field(max_length=10_000)


class ArtifactIn(BaseModel):
    run_id: Key
    path: str = Field(min_length=1, max_length=1024)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0, le=2**62)


class EdgeIn(BaseModel):
    src_kind: Key
    src_id: Key
    dst_kind: Key
    dst_id: Key
    relation: Key
    created_at: Int


class StepRunIn(BaseModel):
    run_id: str = Field(min_length=1, max_length=64)
    create: bool
    name: Key
    status: Status
    start_time: Int
    end_time: Int | None = None
    error: str | None = None
    params: dict[str, str] = {}
    tags: dict[str, str] = {}
    artifacts: list[ArtifactIn] = []
    edges: list[EdgeIn] = []
    cache: CacheIn | None = None
    more_caches: list[CacheIn] = []


class StepRunsIn(BaseModel):
    experiment_id: Int
    parent_run_id: str = Field(min_length=1, max_length=64)
    user: str = ""
    writes: list[StepRunIn]


class TriggerIn(BaseModel):
    trigger_id: Key
    pipeline: Key
    kind: Key
    spec: dict[str, Any] = {}
    params: dict[str, Any] = {}
    state: dict[str, Any] = {}
    created_at: Int = 0
    updated_at: Int = 0


class StateIn(BaseModel):
    state: dict[str, Any]
    updated_at: Int


class FireIn(BaseModel):
    owner: Key
    fired_at: Int


class FireRunIn(BaseModel):
    run_id: Key


class EventIn(BaseModel):
    kind: Key
    name: Key
    payload: dict[str, Any] = {}
    created_at: Int


class LeaseIn(BaseModel):
    owner: Key
    now: Int
    ttl_ms: int = Field(ge=0, le=2**62)


# -- reading runs -------------------------------------------------------------------------
@router.get("/pipelines/runs", summary="Pipeline runs, newest first")
def list_runs(request: Request, _: Viewer, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              offset: Offset = 0, pipeline: str | None = None, status: Status | None = None,
              ) -> dict[str, Any]:
    clauses = [Clause("tag", _TYPE_TAG, "=", "pipeline")]
    if pipeline:
        clauses.append(Clause("tag", "kiln.pipeline", "=", pipeline))
    if status:
        clauses.append(Clause("attribute", "status", "=", status))
    runs = store(request).search_runs(RunQuery(
        None, clauses, [OrderKey("attribute", "start_time", True)], limit + 1, offset))
    return {"items": [wire.run(r) for r in runs[:limit]],
            "next_offset": offset + limit if len(runs) > limit else None}


@router.get("/pipelines/runs/{run_id}/steps", summary="The step runs of a pipeline run")
def list_steps(run_id: Name, request: Request, _: Viewer, limit: Limit = 1000,
               offset: Offset = 0, status: Status | None = None) -> dict[str, Any]:
    s = store(request)
    parent = s.get_run(run_id)
    clauses = [Clause("attribute", "status", "=", status)] if status else []
    steps = s.search_runs(RunQuery([parent.experiment_id], clauses,
                                   [OrderKey("attribute", "start_time", False)],
                                   limit + 1, offset, parent_run_id=run_id))
    return {"items": [wire.run(r) for r in steps[:limit]],
            "next_offset": offset + limit if len(steps) > limit else None}


# -- the PipelineStore calls --------------------------------------------------------------
@router.get("/pipelines/cache/{cache_key}", summary="A cached step output, or null")
def get_cached(cache_key: Name, request: Request, _: Viewer) -> Any:
    entry = store(request).get_cached(cache_key)
    return None if entry is None else wire.cache_entry(entry)


@router.post("/pipelines/cache/lookup", summary="The cached step outputs of those keys that exist")
def get_cached_many(body: CacheKeysIn, request: Request, _: Viewer) -> dict[str, Any]:
    found = store(request).get_cached_many(body.keys)
    return {"items": [wire.cache_entry(e) for e in found.values()]}


@router.post("/pipelines/step-runs", summary="Write step runs in one transaction")
def write_step_runs(body: StepRunsIn, request: Request, who: Editor) -> dict[str, Any]:
    writes = [wire.to_step_run_write(w.model_dump()) for w in body.writes]
    parent = store(request).get_run(body.parent_run_id)
    if parent.experiment_id != body.experiment_id:
        raise InvalidArgumentError(
            f"experiment_id {body.experiment_id} is not the experiment of pipeline run "
            f"{body.parent_run_id!r} ({parent.experiment_id})")
    store(request).write_step_runs(body.experiment_id, body.parent_run_id, who.who(body.user),
                                   writes)
    return {"written": len(writes)}


@router.put("/pipelines/triggers", summary="Register a trigger (its state is kept)")
def save_trigger(body: TriggerIn, request: Request, _: Editor) -> dict[str, Any]:
    return wire.record(store(request).save_trigger(TriggerRecord(**body.model_dump())))


@router.get("/pipelines/triggers", summary="Registered triggers")
def list_triggers(request: Request, _: Viewer, limit: Limit = 100, offset: Offset = 0,
                  pipeline: str | None = None, kind: str | None = None) -> dict[str, Any]:
    items = store(request).list_triggers()
    items = [t for t in items if (pipeline is None or t.pipeline == pipeline)
             and (kind is None or t.kind == kind)]
    return page(items, limit, offset, wire.record)


@router.put("/pipelines/triggers/{trigger_id}/state", summary="Replace a trigger's state")
def set_trigger_state(trigger_id: Name, body: StateIn, request: Request, _: Editor
                      ) -> dict[str, Any]:
    store(request).set_trigger_state(trigger_id, body.state, body.updated_at)
    return {}


@router.post("/pipelines/triggers/{trigger_id}/fires/{fire_key}",
             summary="Claim a fire; false if another process claimed it first")
def claim_fire(trigger_id: Name, fire_key: Name, body: FireIn, request: Request, _: Editor
               ) -> dict[str, Any]:
    return {"claimed": store(request).claim_fire(trigger_id, fire_key, body.owner,
                                                 body.fired_at)}


@router.put("/pipelines/triggers/{trigger_id}/fires/{fire_key}/run",
            summary="Record the run a fire started")
def set_fire_run(trigger_id: Name, fire_key: Name, body: FireRunIn, request: Request,
                 _: Editor) -> dict[str, Any]:
    store(request).set_fire_run(trigger_id, fire_key, body.run_id)
    return {}


@router.get("/pipelines/triggers/{trigger_id}/fires/count", summary="How often it fired")
def count_fires(trigger_id: Name, request: Request, _: Viewer) -> dict[str, Any]:
    return {"count": store(request).count_fires(trigger_id)}


@router.post("/pipelines/events", summary="Record an event that may fire triggers")
def add_event(body: EventIn, request: Request, _: Editor) -> dict[str, Any]:
    s = store(request)
    return wire.record(s.add_trigger_event(body.kind, body.name, body.payload, body.created_at))


@router.get("/pipelines/events", summary="Events of one kind and name, after an id")
def list_events(request: Request, _: Viewer, kind: str, name: str,
                after_id: Annotated[int, Query(ge=0, le=2**62)] = 0, limit: Limit = 100,
                offset: Offset = 0) -> dict[str, Any]:
    return page(store(request).trigger_events(kind, name, after_id), limit, offset,
                wire.record)


@router.post("/pipelines/leases/{name}", summary="Take or renew a lease; false if held")
def acquire_lease(name: Name, body: LeaseIn, request: Request, _: Editor) -> dict[str, Any]:
    return {"acquired": store(request).acquire_lease(name, body.owner, body.now, body.ttl_ms)}


@router.delete("/pipelines/leases/{name}", summary="Release a lease held by owner")
def release_lease(name: Name, owner: str, request: Request, _: Editor) -> dict[str, Any]:
    store(request).release_lease(name, owner)
    return {}

