"""REST API of tracking: experiments, runs, params, tags, metrics and run artifacts."""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kiln.entities import Metric, RunArtifact, RunStatus
from kiln.exceptions import InvalidArgumentError
from kiln.metadata import wire
from kiln.metadata.base import RunQuery
from kiln.server.api._common import Int, Limit, Offset, page, store
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["tracking"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]
FloatValue = float | Literal["NaN", "Infinity", "-Infinity"]


class ExperimentIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)


class RunIn(BaseModel):
    experiment_id: Int
    name: str = Field(min_length=1, max_length=255)
    user: str = ""
    start_time: Int
    tags: dict[str, str] = {}
    parent_run_id: str | None = None


class EndIn(BaseModel):
    status: Literal["FINISHED", "FAILED", "KILLED", "RUNNING"]
    end_time: Int
    error: str | None = None


class BatchIn(BaseModel):
    metrics: list[tuple[str, FloatValue, Int, Int]] = []
    params: dict[str, str] = {}
    tags: dict[str, str] = {}


class MetricsIn(BaseModel):
    points: list[tuple[str, str, FloatValue, Int, Int]]


class ClauseIn(BaseModel):
    kind: Literal["metric", "param", "tag", "attribute"]
    key: str
    op: Literal["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"]
    value: float | str | list[float | str]


class OrderIn(BaseModel):
    kind: Literal["metric", "param", "tag", "attribute"]
    key: str
    descending: bool = False


class SearchIn(BaseModel):
    experiment_ids: list[Int] | None = None
    clauses: list[ClauseIn] = []
    order_by: list[OrderIn] = []
    max_results: int = Field(1000, ge=1, le=1_000_000)
    offset: int = Field(0, ge=0)
    parent_run_id: str | None = None


class ArtifactIn(BaseModel):
    path: str = Field(min_length=1, max_length=1024)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0, le=2**62)


def _check_clauses(query: RunQuery) -> RunQuery:
    """The rules the filter parser applies, for clauses sent already parsed."""
    from kiln.metadata.filters import ATTRIBUTES, COMPARISONS, STRING_OPERATORS

    keys = [(c.kind, c.key) for c in query.clauses] + [(o.kind, o.key) for o in query.order_by]
    for kind, key in keys:
        if kind == "attribute" and key not in ATTRIBUTES:
            raise InvalidArgumentError(f"unknown attribute {key!r}; accepted: "
                                       f"{', '.join(ATTRIBUTES)}")
    for c in query.clauses:
        numeric = c.kind == "metric" or (c.kind == "attribute" and ATTRIBUTES[c.key] == "number")
        allowed = (*COMPARISONS, "IN", "NOT IN") if numeric else STRING_OPERATORS
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        wanted = "a number" if numeric else "a string"
        if c.op not in allowed:
            raise InvalidArgumentError(f"operator {c.op!r} does not apply to {c.kind} {c.key!r}; "
                                       f"accepted: {' '.join(allowed)}")
        if (c.op in ("IN", "NOT IN")) != isinstance(c.value, tuple) or not values:
            raise InvalidArgumentError(
                f"{c.kind} {c.key!r} {c.op} needs "
                f"{'a non-empty list of values' if c.op in ('IN', 'NOT IN') else 'one value'}, "
                f"not {c.value!r}")
        if any(isinstance(v, str) == numeric for v in values):
            raise InvalidArgumentError(f"{c.kind} {c.key!r} compares with {wanted}, not "
                                       f"{c.value!r}")
    return query


@router.post("/experiments", summary="Get or create an experiment")
def create_experiment(body: ExperimentIn, request: Request, _: Editor) -> dict[str, Any]:
    return wire.experiment(store(request).get_or_create_experiment(body.name))


@router.get("/experiments", summary="List experiments")
def list_experiments(request: Request, _: Viewer, limit: Limit = 100, offset: Offset = 0,
                     name_like: Annotated[str | None, Query(
                         description="Glob on the name, e.g. 'churn*'")] = None,
                     ) -> dict[str, Any]:
    items = store(request).list_experiments()
    if name_like:
        items = [e for e in items if fnmatch.fnmatchcase(e.name, name_like)]
    return page(items, limit, offset, wire.experiment)


@router.get("/experiments/{name:path}", summary="Get an experiment by name")
def get_experiment(name: str, request: Request, _: Viewer) -> dict[str, Any]:
    return wire.experiment(store(request).get_experiment(name))


@router.post("/runs", summary="Create a run")
def create_run(body: RunIn, request: Request, who: Editor) -> dict[str, Any]:
    run = store(request).create_run(body.experiment_id, body.name, who.who(body.user),
                                    body.start_time, body.tags, body.parent_run_id)
    return wire.run(run)


@router.get("/runs", summary="Search runs with a filter string, ordered and paged")
def list_runs(
    request: Request,
    _: Viewer,
    experiment: Annotated[list[str] | None, Query(description="Experiment names")] = None,
    filter: Annotated[str | None, Query(description="e.g. metrics.auc > 0.9")] = None,
    order_by: Annotated[list[str] | None, Query(description="e.g. metrics.auc DESC")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    from kiln.metadata.filters import parse_filter, parse_order_by

    s = store(request)
    exp_ids = [s.get_experiment(n).experiment_id for n in experiment] if experiment else None
    runs = s.search_runs(RunQuery(exp_ids, parse_filter(filter), parse_order_by(order_by),
                                  limit + 1, offset))
    return {"items": [wire.run(r) for r in runs[:limit]],
            "next_offset": offset + limit if len(runs) > limit else None}


@router.post("/runs/search", summary="Search runs with parsed clauses (used by the SDK)")
def search_runs(body: SearchIn, request: Request, _: Viewer) -> dict[str, Any]:
    query = _check_clauses(RunQuery(
        experiment_ids=body.experiment_ids,
        clauses=[wire.to_clause(c.model_dump()) for c in body.clauses],
        order_by=[wire.to_order_key(o.model_dump()) for o in body.order_by],
        max_results=body.max_results, offset=body.offset, parent_run_id=body.parent_run_id))
    return {"items": [wire.run(r) for r in store(request).search_runs(query)]}


@router.get("/runs/{run_id}", summary="Get a run")
def get_run(run_id: str, request: Request, _: Viewer) -> dict[str, Any]:
    return wire.run(store(request).get_run(run_id))


@router.post("/runs/{run_id}/end", summary="End a run")
def end_run(run_id: str, body: EndIn, request: Request, _: Editor) -> dict[str, Any]:
    store(request).end_run(run_id, RunStatus(body.status), body.end_time, body.error)
    return {}


@router.post("/runs/{run_id}/batch", summary="Log metrics, params and tags in one go")
def log_batch(run_id: str, body: BatchIn, request: Request, _: Editor) -> dict[str, Any]:
    metrics = [Metric(k, float(v), s, t) for k, v, s, t in body.metrics]
    store(request).log_batch(run_id, metrics, body.params, body.tags)
    return {}


@router.post("/metrics", summary="Write a batch of metric points of any runs")
def write_metrics(body: MetricsIn, request: Request, _: Editor) -> dict[str, Any]:
    points = [(rid, Metric(k, float(v), s, t)) for rid, k, v, s, t in body.points]
    store(request).write_metrics(points)
    return {"written": len(points)}


@router.get("/runs/{run_id}/metrics", summary="Every point of one metric of a run")
def metric_history(run_id: str, key: str, request: Request, _: Viewer,
                   limit: Limit = 10_000,
                   offset: Offset = 0) -> dict[str, Any]:
    return page(store(request).get_metric_history(run_id, key), limit, offset, wire.metric)


@router.post("/runs/{run_id}/artifacts", summary="Record a logged artifact on a run")
def log_artifact(run_id: str, body: ArtifactIn, request: Request, _: Editor) -> dict[str, Any]:
    store(request).log_artifact(RunArtifact(run_id, body.path, body.sha256, body.size))
    return {}


@router.get("/runs/{run_id}/artifacts", summary="A run's artifacts")
def list_artifacts(run_id: str, request: Request, _: Viewer, limit: Limit = 1000,
                   offset: Offset = 0, prefix: str | None = None) -> dict[str, Any]:
    items = store(request).list_artifacts(run_id)
    if prefix:
        items = [a for a in items if a.path.startswith(prefix)]
    return page(items, limit, offset, wire.artifact)
