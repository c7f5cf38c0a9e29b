"""Who may do what in governance: the current user's role, and named roles granted to users.

The role of the current user (``KILN_USER``, else the login name) comes from kiln's
users table (``kiln users create NAME --role admin|editor|viewer``):

* while the table is empty — the embedded default, a single-person workspace — the
  local user is ``admin``;
* once any user is created, the table is authoritative: a user not in it is a
  ``viewer``.

``kiln models promote --force`` needs ``admin``. Policies may ask for an approval by a
named role (``risk-officer``); an admin grants such roles with ``kiln roles grant USER
ROLE``, recorded in the audit log (so grants are tamper-evident like everything there),
and ``kiln models approve ... --as ROLE`` checks that the approver holds it. A user's
base role (viewer, editor, admin) counts as held too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln.exceptions import InvalidArgumentError, PermissionDeniedError

if TYPE_CHECKING:
    from kiln.workspace import Workspace

ADMIN = "admin"
GRANT, REVOKE = "role.grant", "role.revoke"
LOCAL_DEFAULT = ADMIN


def current_role(ws: Workspace) -> str:
    """The base role of the current user (see the module's docstring)."""
    return base_role(ws, ws.user)


def base_role(ws: Workspace, user: str) -> str:
    """``user``'s role in the users table; ``admin`` while the table is empty."""
    list_users = getattr(ws.store, "list_users", None)
    if list_users is None:  # a REST store: the server checks the caller's token itself
        raise PermissionDeniedError(
            "roles are checked by the kiln server for a remote workspace; run this where "
            "the server's database is (KILN_DB_URL), or through the server's API")
    users: dict[str, str] = {u.name: u.role for u in list_users()}
    if not users:
        return LOCAL_DEFAULT
    return users.get(user, "viewer")


def granted_roles(ws: Workspace, user: str) -> set[str]:
    """Named roles granted to ``user`` and not revoked since (from the audit log)."""
    held: set[str] = set()
    for event in ws.store.list_audit_events(object_kind="user", object_id=user):
        if event.object_id != user or not isinstance(event.after, dict):
            continue
        role = str(event.after.get("role", ""))
        if event.action == GRANT:
            held.add(role)
        elif event.action == REVOKE:
            held.discard(role)
    return held


def holds(ws: Workspace, user: str, role: str) -> bool:
    """Whether ``user`` holds ``role``: as base role or by a grant."""
    return role == base_role(ws, user) or role in granted_roles(ws, user)


def role_or_none(ws: Workspace) -> str | None:
    """The current role, or ``None`` where roles are not known here (a REST store)."""
    try:
        return current_role(ws)
    except PermissionDeniedError:
        return None


def require_admin(ws: Workspace, action: str) -> str:
    """The current role if it is admin, else one line saying who lacks it for what."""
    role = current_role(ws)
    if role != ADMIN:
        raise PermissionDeniedError(
            f"{action} needs the {ADMIN} role; user {ws.user!r} has role {role!r} in kiln's "
            f"users table (kiln users create {ws.user} --role admin)")
    return role


def grant(ws: Workspace, user: str, role: str, *, revoke: bool = False) -> None:
    """Grant (or revoke) named role ``role`` to ``user``; needs the admin role."""
    from kiln._time import now_ms

    if not isinstance(role, str) or not role.strip() or len(role) > 64:
        raise InvalidArgumentError(f"role {role!r} is not accepted; give a role name "
                                   "(1-64 characters)")
    if not isinstance(user, str) or not user.strip():
        raise InvalidArgumentError(f"user {user!r} is not accepted; give a user name")
    require_admin(ws, "revoking a role" if revoke else "granting a role")
    ws.store.append_audit_event(ws.user, REVOKE if revoke else GRANT, "user", user, None,
                                {"role": role.strip()}, now_ms())
