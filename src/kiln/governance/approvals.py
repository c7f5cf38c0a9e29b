"""Approvals of a model version by a named role, kept in the audit log (so they are
tamper-evident like everything else there). The approver must hold the role (see
:mod:`kiln.governance.roles`): their base role in the users table, or a role an
admin granted them with ``kiln roles grant``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.workspace import Workspace

ACTION = "model.approve"


@dataclass(frozen=True)
class Approval:
    """``actor`` approved ``name`` version ``version`` acting as ``role``."""

    name: str
    version: int
    role: str
    actor: str
    comment: str
    timestamp: int


def approve(ws: Workspace, name: str, version: int | str, role: str, comment: str = ""
            ) -> Approval:
    """Record an approval of an existing version by ``role``."""
    from kiln._time import now_ms
    from kiln.exceptions import PermissionDeniedError
    from kiln.governance.roles import base_role, holds

    if not isinstance(role, str) or not role.strip():
        raise InvalidArgumentError(f"role {role!r} is not accepted; give a role name")
    mv = ws.get_model_version(name, version)
    if not holds(ws, ws.user, role):
        raise PermissionDeniedError(
            f"user {ws.user!r} does not hold role {role!r} (base role "
            f"{base_role(ws, ws.user)!r}); an admin grants it: kiln roles grant {ws.user} "
            f"{role}")
    ts = now_ms()
    ws.store.append_audit_event(ws.user, ACTION, "model_version", f"{mv.name}/{mv.version}",
                                None, {"role": role, "comment": comment}, ts)
    return Approval(mv.name, mv.version, role, ws.user, comment, ts)


def approvals(ws: Workspace, name: str, version: int) -> list[Approval]:
    """Every recorded approval of the version, oldest first."""
    events = ws.store.list_audit_events(object_kind="model_version",
                                        object_id=f"{name}/{version}", action=ACTION)
    return [
        Approval(name, version, str(e.after.get("role", "")), e.actor,
                 str(e.after.get("comment", "")), e.timestamp)
        for e in events
        if e.object_id == f"{name}/{version}" and isinstance(e.after, dict)
    ]
