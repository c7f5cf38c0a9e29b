"""REST API of deployments (mirrors :class:`kiln.metadata.base.ServingStore`): create,
list, show, set weights, roll back, history, the prediction-log index and feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kiln.entities import DeploymentSpec, Feedback, PredictionLogBatch
from kiln.metadata import wire
from kiln.server.api._common import (
    Int,
    Limit,
    Name,
    Offset,
    TimeMs,
    page,
    server_workspace,
    store,
)
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["deployments"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]
Weight = Annotated[float, Field(ge=0, le=1e9)]


class RouteIn(BaseModel):
    model: str = Field(min_length=1, max_length=255)
    alias: str | None = Field(None, min_length=1, max_length=255)
    version: int | None = Field(None, ge=1, le=2**31 - 1)
    weight: Weight = 0.0


class CanaryIn(BaseModel):
    route: str = Field(min_length=1, max_length=255)
    max_error_rate: float = Field(0.05, ge=0, le=1)
    max_latency_ms: float = Field(250.0, ge=0, le=1e9)
    window: int = Field(200, ge=1, le=10**9)
    min_requests: int = Field(20, ge=0, le=10**9)


class SpecIn(BaseModel):
    routes: list[RouteIn]
    shadows: list[RouteIn] = []
    sticky_key: str | None = None
    canary: CanaryIn | None = None


class VersionIn(BaseModel):
    """A raw new version, as the SDK's store writes it (no check that routes resolve)."""

    spec: SpecIn
    action: str = Field(min_length=1, max_length=64)
    user: str = ""
    created_at: Int
    message: str = ""
    create: bool = False
    expected_version: int | None = Field(None, ge=0, le=2**31 - 1,
                                         description="Write only if this is the current one")


class CreateIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    routes: list[str] = Field(min_length=1, description="MODEL@ALIAS:WEIGHT or MODEL/N:WEIGHT")
    shadows: list[str] = []
    sticky_key: str | None = None
    message: str = ""


class WeightsIn(BaseModel):
    weights: dict[str, Weight] = Field(description="route target -> weight")
    message: str = ""


class RollbackIn(BaseModel):
    to_version: int | None = Field(None, ge=1, le=2**31 - 1)
    message: str = ""


class LogBatchIn(BaseModel):
    artifact: str = Field(pattern=r"^[0-9a-f]{64}$")
    rows: int = Field(ge=0, le=2**62)
    start_time: Int
    end_time: Int
    created_at: Int


class FeedbackIn(BaseModel):
    request_id: str = Field(min_length=1, max_length=255)
    deployment: str = Field(min_length=1, max_length=255)
    label: Any
    timestamp: Int
    extra: dict[str, Any] = {}


class FeedbackListIn(BaseModel):
    items: list[FeedbackIn]


def _spec(body: SpecIn) -> DeploymentSpec:
    return DeploymentSpec.from_dict(body.model_dump())


@router.get("/deployments", summary="Every deployment at its current version")
def list_deployments(request: Request, _: Viewer, limit: Limit = 100, offset: Offset = 0,
                     model: Annotated[str | None, Query(description="Only those routing to it")]
                     = None) -> dict[str, Any]:
    items = store(request).list_deployments()
    if model:
        items = [d for d in items if any(r.model == model for r in (*d.routes, *d.shadows))]
    return page(items, limit, offset, wire.deployment)


@router.post("/deployments", summary="Create a deployment (its routes must resolve)")
def create(body: CreateIn, request: Request, who: Editor) -> dict[str, Any]:
    ws = server_workspace(request, who.who(""))
    return wire.deployment(ws.create_deployment(body.name, body.routes, body.shadows,
                                                sticky_key=body.sticky_key,
                                                message=body.message))


@router.get("/deployments/{name}", summary="A deployment (default: its current version)")
def get_deployment(name: Name, request: Request, _: Viewer,
                   version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                   ) -> dict[str, Any]:
    return wire.deployment(store(request).get_deployment(name, version))


@router.get("/deployments/{name}/head", summary="The current version number")
def head(name: Name, request: Request, _: Viewer) -> dict[str, Any]:
    return {"name": name, "version": store(request).deployment_head(name)}


@router.get("/deployments/{name}/history", summary="Every version, oldest first")
def history(name: Name, request: Request, _: Viewer, limit: Limit = 100, offset: Offset = 0,
            action: str | None = None) -> dict[str, Any]:
    items = store(request).deployment_history(name)
    if action:
        items = [d for d in items if d.action == action]
    return page(items, limit, offset, wire.deployment)


@router.post("/deployments/{name}/versions", summary="Write the next version as given")
def add_version(name: Name, body: VersionIn, request: Request, who: Editor) -> dict[str, Any]:
    dep = store(request).add_deployment_version(
        name, _spec(body.spec), action=body.action, user=who.who(body.user),
        created_at=body.created_at, message=body.message, create=body.create,
        expected_version=body.expected_version)
    return wire.deployment(dep)


@router.put("/deployments/{name}/weights", summary="New weights for routes (a new version)")
def set_weights(name: Name, body: WeightsIn, request: Request, who: Editor) -> dict[str, Any]:
    ws = server_workspace(request, who.who(""))
    return wire.deployment(ws.set_weights(name, body.weights, body.message))


@router.post("/deployments/{name}/rollback", summary="Serve an earlier version's routes again")
def rollback(name: Name, body: RollbackIn, request: Request, who: Editor) -> dict[str, Any]:
    ws = server_workspace(request, who.who(""))
    return wire.deployment(ws.rollback_deployment(name, body.to_version, body.message))


@router.post("/deployments/{name}/prediction-logs", summary="Index a prediction-log batch")
def add_prediction_log(name: Name, body: LogBatchIn, request: Request, _: Editor
                       ) -> dict[str, Any]:
    store(request).add_prediction_log(PredictionLogBatch(name, **body.model_dump()))
    return {}


@router.get("/deployments/{name}/prediction-logs",
            summary="Prediction-log batches overlapping [start, end]")
def list_prediction_logs(name: Name, request: Request, _: Viewer, start: TimeMs = None,
                         end: TimeMs = None, limit: Limit = 1000, offset: Offset = 0,
                         ) -> dict[str, Any]:
    items = store(request).list_prediction_logs(name, start, end)
    return page(items, limit, offset, wire.record)


@router.post("/feedback", summary="Store ground truth (a request id again replaces it)")
def add_feedback(body: FeedbackListIn, request: Request, _: Editor) -> dict[str, Any]:
    store(request).add_feedback([Feedback(**f.model_dump()) for f in body.items])
    return {"added": len(body.items)}


@router.get("/deployments/{name}/feedback", summary="Ground truth received in [start, end]")
def get_feedback(name: Name, request: Request, _: Viewer, start: TimeMs = None,
                 end: TimeMs = None, limit: Limit = 1000, offset: Offset = 0,
                 ) -> dict[str, Any]:
    return page(store(request).get_feedback(name, start, end), limit, offset, wire.record)

