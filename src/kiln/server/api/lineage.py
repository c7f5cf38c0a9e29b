"""REST API of lineage: add edges, list a node's edges, walk the graph."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kiln.entities import LineageEdge
from kiln.metadata import wire
from kiln.server.api._common import Int, Limit, Offset, page, store
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["lineage"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]


class EdgeIn(BaseModel):
    src_kind: str = Field(min_length=1, max_length=64)
    src_id: str = Field(min_length=1, max_length=255)
    dst_kind: str = Field(min_length=1, max_length=64)
    dst_id: str = Field(min_length=1, max_length=255)
    relation: str = Field(min_length=1, max_length=64)
    created_at: Int


class EdgesIn(BaseModel):
    edges: list[EdgeIn]


@router.post("/lineage/edges", summary="Add lineage edges")
def add_edges(body: EdgesIn, request: Request, _: Editor) -> dict[str, Any]:
    store(request).add_edges([LineageEdge(**e.model_dump()) for e in body.edges])
    return {"added": len(body.edges)}


@router.get("/lineage/edges", summary="Edges leaving (from) or entering (to) a node")
def edges(request: Request, _: Viewer, kind: str, id: str,
          direction: Literal["from", "to"] = "from", limit: Limit = 100, offset: Offset = 0,
          relation: Annotated[str | None, Query(description="Only this relation")] = None,
          ) -> dict[str, Any]:
    s = store(request)
    items = s.edges_from(kind, id) if direction == "from" else s.edges_to(kind, id)
    if relation:
        items = [e for e in items if e.relation == relation]
    return page(items, limit, offset, wire.edge)


@router.get("/lineage/walk", summary="The tree upstream (up) or downstream (down) of a node")
def walk(request: Request, _: Viewer, kind: str, id: str,
         direction: Literal["up", "down"] = "up",
         depth: Annotated[int, Query(ge=1, le=50)] = 10,
         derived: Annotated[bool, Query(description="Also pipeline steps and deployments")]
         = False) -> dict[str, Any]:
    from kiln.lineage import walk as walk_graph

    return walk_graph(store(request), kind, id, direction, depth, derived=derived).to_dict()
