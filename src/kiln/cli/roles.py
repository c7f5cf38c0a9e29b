"""``kiln roles``: your role, and named roles (``risk-officer``) granted for approvals."""

from __future__ import annotations

import click

from kiln.cli._output import emit, json_option
from kiln.cli._ws import workspace


@click.group()
def roles() -> None:
    """Roles: whoami, grant, revoke, list (grants are recorded in the audit log)."""


@roles.command("whoami")
@json_option
def whoami(as_json: bool) -> None:
    """Your user name, base role (users table; admin while it is empty) and granted roles."""
    from kiln.governance.roles import current_role, granted_roles

    ws = workspace()
    row = {"user": ws.user, "role": current_role(ws),
           "granted": ", ".join(sorted(granted_roles(ws, ws.user)))}
    emit([row], ["user", "role", "granted"], as_json, title="You")


@roles.command("grant")
@click.argument("user")
@click.argument("role")
def grant_role(user: str, role: str) -> None:
    """Grant named ROLE to USER (needs the admin role)."""
    from kiln.governance.roles import grant

    grant(workspace(), user, role)
    click.echo(f"granted {role!r} to {user!r} (recorded in the audit log)")


@roles.command("revoke")
@click.argument("user")
@click.argument("role")
def revoke_role(user: str, role: str) -> None:
    """Revoke named ROLE from USER (needs the admin role)."""
    from kiln.governance.roles import grant

    grant(workspace(), user, role, revoke=True)
    click.echo(f"revoked {role!r} from {user!r} (recorded in the audit log)")


@roles.command("list")
@click.argument("user")
@json_option
def list_roles(user: str, as_json: bool) -> None:
    """USER's base role and granted roles."""
    from kiln.governance.roles import base_role, granted_roles

    ws = workspace()
    emit([{"user": user, "role": base_role(ws, user),
           "granted": ", ".join(sorted(granted_roles(ws, user)))}],
         ["user", "role", "granted"], as_json, title="Roles")
