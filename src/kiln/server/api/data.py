"""REST API of data versions (mirrors :class:`kiln.metadata.base.DataStore`)."""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kiln.metadata import wire
from kiln.server.api._common import Int, Limit, Name, Offset, Version, page, store
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["data"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]


class DatasetVersionIn(BaseModel):
    tree: str = Field(pattern=r"^[0-9a-f]{64}$")
    kind: str = Field(min_length=1, max_length=32)
    size: int = Field(ge=0, le=2**62)
    file_count: int = Field(ge=0, le=2**62)
    rows: int | None = Field(None, ge=0)
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    user: str = ""
    created_at: Int
    git_commit: str | None = None
    source: str = ""
    description: str = ""


class SchemaIn(BaseModel):
    schema_: dict[str, Any] = Field(alias="schema")


@router.get("/datasets", summary="List dataset names")
def list_datasets(request: Request, _: Viewer, limit: Limit = 100, offset: Offset = 0,
                  name_like: Annotated[str | None, Query(description="Glob on the name")] = None,
                  ) -> dict[str, Any]:
    names = store(request).list_datasets()
    if name_like:
        names = [n for n in names if fnmatch.fnmatchcase(n, name_like)]
    return page(names, limit, offset, str)


@router.post("/datasets/{name}/versions", summary="Register the next version of a dataset")
def create_version(name: Name, body: DatasetVersionIn, request: Request, who: Editor
                   ) -> dict[str, Any]:
    dv = store(request).create_dataset_version(
        name, tree=body.tree, kind=body.kind, size=body.size, file_count=body.file_count,
        rows=body.rows, schema=body.schema_, user=who.who(body.user),
        created_at=body.created_at, git_commit=body.git_commit, source=body.source,
        description=body.description)
    return wire.record(dv)


@router.get("/datasets/{name}/versions", summary="List a dataset's versions, oldest first")
def list_versions(name: Name, request: Request, _: Viewer, limit: Limit = 100,
                  offset: Offset = 0,
                  user: Annotated[str | None, Query(description="Only this author's")] = None,
                  ) -> dict[str, Any]:
    items = store(request).list_dataset_versions(name)
    if user:
        items = [v for v in items if v.user == user]
    return page(items, limit, offset, wire.record)


@router.get("/datasets/{name}/latest", summary="The newest version of a dataset")
def latest(name: Name, request: Request, _: Viewer) -> dict[str, Any]:
    return wire.record(store(request).latest_dataset_version(name))


@router.get("/datasets/{name}/versions/{version}", summary="One version of a dataset")
def get_version(name: Name, version: Version, request: Request, _: Viewer) -> dict[str, Any]:
    return wire.record(store(request).get_dataset_version(name, version))


@router.put("/datasets/{name}/versions/{version}/schema", summary="Replace a version's schema")
def set_schema(name: Name, version: Version, body: SchemaIn, request: Request, _: Editor
               ) -> dict[str, Any]:
    store(request).set_dataset_schema(name, version, body.schema_)
    return {}
