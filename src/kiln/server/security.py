"""Who is calling: API tokens (stored as sha256), roles and model ownership.

Roles are ordered ``viewer < editor < admin``: viewers read, editors write,
admins also move any model's aliases. Without auth (loopback, no ``--auth``)
every caller is an admin and the ``user`` a client sends is recorded as is.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request  # FastAPI reads the annotation at runtime

from kiln._time import now_ms
from kiln.entities._auth import ROLES
from kiln.exceptions import AuthenticationError, PermissionDeniedError

if TYPE_CHECKING:
    from kiln.entities import ApiToken
    from kiln.metadata.base import AuthStore

TOKEN_PREFIX = "kiln_"
log = logging.getLogger("kiln.server.audit")
COOKIE = "kiln_token"


def hash_token(secret: str) -> str:
    """The sha256 a token is stored (and looked up) under."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(store: AuthStore, user: str, label: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``user``; the secret is returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = store.create_token(secrets.token_hex(6), user, hash_token(secret), label, now_ms())
    return token, secret


@dataclass(frozen=True)
class Principal:
    """The caller: ``user`` is ``None`` when auth is off (the client's claim is kept)."""

    user: str | None
    role: str

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def who(self, claimed: str) -> str:
        """The user a write is recorded under."""
        return self.user if self.user is not None else claimed


ANONYMOUS_ADMIN = Principal(None, "admin")


def authenticate(request: Request) -> Principal:
    """The caller of ``request`` (from ``Authorization: Bearer`` or the UI's cookie)."""
    state: Any = request.app.state
    if not state.auth:
        return ANONYMOUS_ADMIN
    header = request.headers.get("authorization", "")
    secret = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not secret:
        secret = request.cookies.get(COOKIE, "")
    if not secret:
        raise AuthenticationError("this kiln server needs an API token: set KILN_TOKEN "
                                  "(create one with `kiln tokens create USER`)")
    found = state.store.find_token(hash_token(secret))
    if found is None:
        raise AuthenticationError("the API token is not valid or was revoked")
    user, _token = found
    return Principal(user.name, user.role)


def require(principal: Principal, role: str, action: str) -> None:
    if not principal.at_least(role):
        raise PermissionDeniedError(
            f"user {principal.user!r} has role {principal.role!r}; {action} needs {role!r} "
            "or higher"
        )


def viewer(request: Request) -> Principal:
    """FastAPI dependency: any authenticated caller."""
    return authenticate(request)


def editor(request: Request) -> Principal:
    """FastAPI dependency: an editor or admin. Every write is logged with its author."""
    principal = authenticate(request)
    require(principal, "editor", f"{request.method} {request.url.path}")
    if principal.user is not None:
        log.info("%s %s by %s", request.method, request.url.path, principal.user)
    return principal


def admin(request: Request) -> Principal:
    """FastAPI dependency: an admin."""
    principal = authenticate(request)
    require(principal, "admin", f"{request.method} {request.url.path}")
    return principal
