"""``kiln users`` and ``kiln tokens``: access control of ``kiln server``, written to its
database directly (run them where the server's ``KILN_DB_URL`` points)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kiln.cli._output import emit, fmt_time, json_option
from kiln.entities._auth import ROLES

if TYPE_CHECKING:
    from kiln.metadata.sql import SqlMetadataStore


def _store() -> SqlMetadataStore:
    from kiln.metadata.sql import SqlMetadataStore
    from kiln.settings import Settings

    return SqlMetadataStore(Settings.load(server="").db_url)


@click.group()
def users() -> None:
    """Users of kiln server: create, list."""


@users.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
def create_user(name: str, role: str) -> None:
    """Create user NAME with a role (viewer reads, editor writes, admin does all)."""
    from kiln._time import now_ms

    store = _store()
    try:
        user = store.create_user(name, role, now_ms())
    finally:
        store.close()
    click.echo(f"created user {user.name!r} ({user.role}); give it a token: "
               f"kiln tokens create {user.name}")


@users.command("list")
@json_option
def list_users(as_json: bool) -> None:
    """List users and their roles."""
    store = _store()
    try:
        rows = [{"name": u.name, "role": u.role, "created": fmt_time(u.created_at)}
                for u in store.list_users()]
    finally:
        store.close()
    emit(rows, ["name", "role", "created"], as_json, title="Users")


@click.group()
def tokens() -> None:
    """API tokens of kiln server: create, list, revoke."""


@tokens.command("create")
@click.argument("user")
@click.option("--label", default="", help="What the token is for.")
def create_token(user: str, label: str) -> None:
    """Create an API token for USER. It is shown once; only its sha256 is stored."""
    from kiln.server.security import issue_token

    store = _store()
    try:
        token, secret = issue_token(store, user, label)
    finally:
        store.close()
    click.echo(f"token {token.token_id} for {user!r} (shown once; store it now):", err=True)
    click.echo(secret)


@tokens.command("list")
@click.option("--user", default=None, help="Only this user's tokens.")
@json_option
def list_tokens(user: str | None, as_json: bool) -> None:
    """List tokens (ids, never secrets)."""
    store = _store()
    try:
        rows = [{"token_id": t.token_id, "user": t.user, "label": t.label,
                 "created": fmt_time(t.created_at), "revoked": fmt_time(t.revoked_at)}
                for t in store.list_tokens(user)]
    finally:
        store.close()
    emit(rows, ["token_id", "user", "label", "created", "revoked"], as_json, title="Tokens")


@tokens.command("revoke")
@click.argument("token_id")
def revoke_token(token_id: str) -> None:
    """Revoke the token TOKEN_ID: the server refuses it from the next request on."""
    from kiln._time import now_ms

    store = _store()
    try:
        store.revoke_token(token_id, now_ms())
    finally:
        store.close()
    click.echo(f"revoked token {token_id}")
