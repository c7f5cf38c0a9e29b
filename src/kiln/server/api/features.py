"""REST API of the feature registry (mirrors :class:`kiln.metadata.base.FeatureRegistryStore`)
and online feature lookup."""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kiln.entities import FeatureDefinition, Materialization
from kiln.metadata import wire
from kiln.metadata.base import DefinitionSpec
from kiln.server.api._common import Int, Limit, Name, Offset, page, server_workspace, store
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["features"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]
Kind = Literal["entity", "feature_view"]


class DefinitionIn(BaseModel):
    kind: Kind
    name: str = Field(min_length=1, max_length=255)
    spec: dict[str, Any]


class ApplyIn(BaseModel):
    definitions: list[DefinitionIn]
    user: str = ""
    created_at: Int


class MaterializationIn(BaseModel):
    view: str = Field(min_length=1, max_length=255)
    target: str = Field(min_length=1, max_length=1024)
    view_version: int = Field(ge=1, le=2**31 - 1)
    until: Int
    rows: int = Field(ge=0, le=2**62)
    updated_at: Int


class LookupIn(BaseModel):
    features: list[str] = Field(min_length=1, description="'view:feature' references")
    entities: dict[str, list[Any]] | list[dict[str, Any]] = Field(
        description="{join_key: [values]} or [{join_key: value}, ...]")
    full_feature_names: bool = False


@router.post("/features/definitions", summary="Register definitions (one transaction)")
def apply(body: ApplyIn, request: Request, who: Editor) -> dict[str, Any]:
    specs = [DefinitionSpec(d.kind, d.name, d.spec) for d in body.definitions]
    applied = store(request).apply_feature_definitions(specs, who.who(body.user),
                                                       body.created_at)
    return {"items": [wire.record(d) for d in applied], "next_offset": None}


@router.get("/features/definitions", summary="The latest version of every definition")
def list_definitions(request: Request, _: Viewer, kind: Kind | None = None,
                     limit: Limit = 100, offset: Offset = 0,
                     name_like: Annotated[str | None, Query(description="Glob on the name")]
                     = None) -> dict[str, Any]:
    items = store(request).list_feature_definitions(kind)
    if name_like:
        items = [d for d in items if fnmatch.fnmatchcase(d.name, name_like)]
    return page(items, limit, offset, wire.record)


@router.get("/features/definitions/{kind}/{name}", summary="One definition (default latest)")
def get_definition(kind: Kind, name: Name, request: Request, _: Viewer,
                   version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
                   ) -> dict[str, Any]:
    return wire.record(store(request).get_feature_definition(kind, name, version))


@router.get("/features/definitions/{kind}/{name}/versions", summary="Every version, oldest first")
def list_versions(kind: Kind, name: Name, request: Request, _: Viewer, limit: Limit = 100,
                  offset: Offset = 0) -> dict[str, Any]:
    items: list[FeatureDefinition] = store(request).list_feature_definition_versions(kind, name)
    return page(items, limit, offset, wire.record)


@router.put("/features/materializations", summary="Record how far a view is materialized")
def set_materialization(body: MaterializationIn, request: Request, _: Editor
                        ) -> dict[str, Any]:
    store(request).set_materialization(Materialization(**body.model_dump()))
    return {}


@router.get("/features/materializations", summary="Every recorded materialization")
def list_materializations(request: Request, _: Viewer, view: str | None = None,
                          limit: Limit = 1000, offset: Offset = 0) -> dict[str, Any]:
    return page(store(request).list_materializations(view), limit, offset, wire.record)


@router.get("/features/materializations/{view}", summary="How far a view is materialized")
def get_materialization(view: Name, target: str, request: Request, _: Viewer) -> Any:
    state = store(request).get_materialization(view, target)
    return None if state is None else wire.record(state)


@router.post("/features/online", summary="Look up the latest feature values of entities")
def online(body: LookupIn, request: Request, _: Viewer) -> dict[str, Any]:
    ws = server_workspace(request)
    result = ws.get_online_features(body.entities, body.features,
                                    full_feature_names=body.full_feature_names)
    return result.to_json()
