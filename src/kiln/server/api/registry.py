"""REST API of the model registry: models, versions, aliases, alias history, owners."""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from kiln.entities import Signature
from kiln.exceptions import PermissionDeniedError
from kiln.metadata import wire
from kiln.server.api._common import Int, Limit, Offset, page, store
from kiln.server.security import Principal, admin, editor, viewer

router = APIRouter(tags=["registry"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]
Admin = Annotated[Principal, Depends(admin)]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]


class VersionIn(BaseModel):
    run_id: str | None = None
    flavor: str = Field(min_length=1, max_length=64)
    artifact: str = Field(min_length=1, max_length=64)
    signature: dict[str, list[dict[str, Any]]] | None = None
    user: str = ""
    created_at: Int
    description: str = ""


class AliasIn(BaseModel):
    version: int = Field(ge=1, le=2**31 - 1)
    user: str = ""
    timestamp: Int


def _may_move_aliases(request: Request, who: Principal, name: str) -> None:
    """Only the model's owners (or admins) move its aliases."""
    if not request.app.state.auth or who.role == "admin":
        return
    owners = store(request).model_owners(name)
    if who.user not in owners:
        shown = ", ".join(repr(o) for o in owners) or "none (ask an admin)"
        raise PermissionDeniedError(
            f"user {who.user!r} does not own model {name!r}; its owners: {shown}")


@router.get("/models", summary="List registered models")
def list_models(request: Request, _: Viewer, limit: Limit = 100, offset: Offset = 0,
                name_like: Annotated[str | None, Query(description="Glob on the name")] = None,
                ) -> dict[str, Any]:
    items = store(request).list_registered_models()
    if name_like:
        items = [m for m in items if fnmatch.fnmatchcase(m.name, name_like)]
    return page(items, limit, offset, wire.registered_model)


@router.get("/models/{name}", summary="Get a registered model")
def get_model(name: str, request: Request, _: Viewer) -> dict[str, Any]:
    return wire.registered_model(store(request).get_registered_model(name))


@router.post("/models/{name}/versions", summary="Register a new version")
def create_version(name: str, body: VersionIn, request: Request, who: Editor
                   ) -> dict[str, Any]:
    s = store(request)
    mv = s.create_model_version(
        name, run_id=body.run_id, flavor=body.flavor, artifact=body.artifact,
        signature=Signature.from_dict(body.signature) if body.signature else None,
        user=who.who(body.user), created_at=body.created_at, description=body.description)
    if mv.version == 1 and who.user is not None:
        s.add_model_owner(name, who.user)
    return wire.model_version(mv)


@router.get("/models/{name}/versions", summary="List a model's versions")
def list_versions(name: str, request: Request, _: Viewer, limit: Limit = 100,
                  offset: Offset = 0,
                  alias: Annotated[str | None, Query(description="Only versions with it")] = None,
                  ) -> dict[str, Any]:
    items = store(request).list_model_versions(name)
    if alias:
        items = [v for v in items if alias in v.aliases]
    return page(items, limit, offset, wire.model_version)


@router.get("/models/{name}/versions/{version}", summary="Get one version")
def get_version(name: str, version: Version, request: Request, _: Viewer) -> dict[str, Any]:
    return wire.model_version(store(request).get_model_version(name, version))


@router.get("/models/{name}/aliases/{alias}", summary="The version an alias points at")
def get_alias(name: str, alias: str, request: Request, _: Viewer) -> dict[str, Any]:
    return {"name": name, "alias": alias, "version": store(request).get_alias(name, alias)}


@router.put("/models/{name}/aliases/{alias}", summary="Move an alias (owners and admins)")
def set_alias(name: str, alias: str, body: AliasIn, request: Request, who: Editor
              ) -> dict[str, Any]:
    _may_move_aliases(request, who, name)
    store(request).set_alias(name, alias, body.version, who.who(body.user), body.timestamp)
    return {}


@router.delete("/models/{name}/aliases/{alias}", summary="Delete an alias (owners and admins)")
def delete_alias(name: str, alias: str, request: Request, who: Editor,
                 timestamp: Annotated[int, Query(ge=-(2**63), le=2**63 - 1)],
                 user: str = "") -> dict[str, Any]:
    _may_move_aliases(request, who, name)
    store(request).delete_alias(name, alias, who.who(user), timestamp)
    return {}


@router.get("/models/{name}/alias-history", summary="Every move of the model's aliases")
def alias_history(name: str, request: Request, _: Viewer, limit: Limit = 100,
                  offset: Offset = 0, alias: str | None = None) -> dict[str, Any]:
    return page(store(request).alias_history(name, alias), limit, offset, wire.alias_event)


@router.get("/models/{name}/owners", summary="Who may move the model's aliases")
def owners(name: str, request: Request, _: Viewer) -> dict[str, Any]:
    s = store(request)
    s.get_registered_model(name)
    return {"items": s.model_owners(name), "next_offset": None}


@router.put("/models/{name}/owners/{user}", summary="Add an owner (admins)")
def add_owner(name: str, user: str, request: Request, _: Admin) -> dict[str, Any]:
    s = store(request)
    s.get_registered_model(name)
    s.get_user(user)
    s.add_model_owner(name, user)
    return {}
