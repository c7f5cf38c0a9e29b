"""REST API of access control: who am I, users (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from kiln.server.api._common import Limit, Offset, page, store
from kiln.server.security import Principal, admin, viewer

router = APIRouter(tags=["auth"])


@router.get("/whoami", summary="The caller's user and role")
def whoami(request: Request, who: Annotated[Principal, Depends(viewer)]) -> dict[str, Any]:
    return {"user": who.user, "role": who.role, "auth": bool(request.app.state.auth)}


@router.get("/users", summary="List users (admins)")
def users(request: Request, _: Annotated[Principal, Depends(admin)], limit: Limit = 100,
          offset: Offset = 0) -> dict[str, Any]:
    return page(store(request).list_users(), limit, offset,
                lambda u: {"name": u.name, "role": u.role, "created_at": u.created_at})
