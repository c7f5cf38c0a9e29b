"""REST API of access control: who am I; users and API tokens (admins only).

A token's secret is in the answer to its creation and nowhere else: only its sha256
is stored, lists show ids, users and labels.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from kiln._time import now_ms
from kiln.entities import ApiToken
from kiln.server.api._common import Limit, Name, Offset, page, store
from kiln.server.security import Principal, admin, issue_token, viewer

router = APIRouter(tags=["auth"])
Admin = Annotated[Principal, Depends(admin)]


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    role: Literal["viewer", "editor", "admin"] = "viewer"


class TokenIn(BaseModel):
    user: str = Field(min_length=1, max_length=255)
    label: str = Field("", max_length=255)


def _token(t: ApiToken) -> dict[str, Any]:
    return {"token_id": t.token_id, "user": t.user, "label": t.label,
            "created_at": t.created_at, "revoked_at": t.revoked_at}


@router.get("/whoami", summary="The caller's user and role")
def whoami(request: Request, who: Annotated[Principal, Depends(viewer)]) -> dict[str, Any]:
    return {"user": who.user, "role": who.role, "auth": bool(request.app.state.auth)}


@router.get("/users", summary="List users (admins)")
def users(request: Request, _: Admin, limit: Limit = 100, offset: Offset = 0,
          role: Literal["viewer", "editor", "admin"] | None = None) -> dict[str, Any]:
    items = [u for u in store(request).list_users() if role is None or u.role == role]
    return page(items, limit, offset,
                lambda u: {"name": u.name, "role": u.role, "created_at": u.created_at})


@router.post("/users", summary="Create a user (admins)")
def create_user(body: UserIn, request: Request, _: Admin) -> dict[str, Any]:
    u = store(request).create_user(body.name, body.role, now_ms())
    return {"name": u.name, "role": u.role, "created_at": u.created_at}


@router.get("/tokens", summary="List API tokens, never their secrets (admins)")
def tokens(request: Request, _: Admin, user: str | None = None, limit: Limit = 100,
           offset: Offset = 0) -> dict[str, Any]:
    return page(store(request).list_tokens(user), limit, offset, _token)


@router.post("/tokens", summary="Create a token; its secret is shown this once (admins)")
def create_token(body: TokenIn, request: Request, _: Admin) -> dict[str, Any]:
    s = store(request)
    s.get_user(body.user)
    token, secret = issue_token(s, body.user, body.label)
    return {**_token(token), "secret": secret}


@router.delete("/tokens/{token_id}", summary="Revoke a token (admins)")
def revoke_token(token_id: Name, request: Request, _: Admin) -> dict[str, Any]:
    store(request).revoke_token(token_id, now_ms())
    return {}
