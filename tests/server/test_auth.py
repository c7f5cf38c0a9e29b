"""Access control of kiln server: tokens, roles, ownership, who made each write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from kiln.entities import Signature
from kiln.exceptions import AuthenticationError, PermissionDeniedError
from kiln.metadata.rest import RestMetadataStore

if TYPE_CHECKING:
    from conftest import LiveServer


def kiln_cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KILN_DB_URL": db_url}
    env.pop("KILN_SERVER", None)
    return subprocess.run([sys.executable, "-m", "kiln.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def make_user(live: LiveServer, name: str, role: str) -> str:
    """Create a user and a token with the CLI, like an admin would; return the token."""
    assert kiln_cli(live.store.url, "users", "create", name, "--role", role).returncode == 0
    out = kiln_cli(live.store.url, "tokens", "create", name, "--label", "test")
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_no_token_wrong_token_and_revoked_token_get_401(live_auth: LiveServer) -> None:
    token = make_user(live_auth, "alice", "editor")
    assert token.startswith("kiln_")
    with pytest.raises(AuthenticationError, match="needs an API token"):
        RestMetadataStore(live_auth.url, token="").list_experiments()
    with pytest.raises(AuthenticationError, match="not valid or was revoked"):
        RestMetadataStore(live_auth.url, token="kiln_wrong").list_experiments()
    r = httpx.get(f"{live_auth.url}/api/v1/experiments")
    assert r.status_code == 401 and r.json()["error"]["type"] == "AuthenticationError"

    store = RestMetadataStore(live_auth.url, token=token)
    assert store.get_or_create_experiment("churn").name == "churn"
    token_id = live_auth.store.list_tokens("alice")[0].token_id
    assert kiln_cli(live_auth.store.url, "tokens", "revoke", token_id).returncode == 0
    with pytest.raises(AuthenticationError):
        store.list_experiments()


def test_roles(live_auth: LiveServer) -> None:
    viewer = RestMetadataStore(live_auth.url, token=make_user(live_auth, "vic", "viewer"))
    editor = RestMetadataStore(live_auth.url, token=make_user(live_auth, "eve", "editor"))
    exp = editor.get_or_create_experiment("churn")
    assert [e.name for e in viewer.list_experiments()] == ["churn"]
    with pytest.raises(PermissionDeniedError, match="'vic' has role 'viewer'"):
        viewer.create_run(exp.experiment_id, "r", "vic", 1, {})
    r = httpx.post(f"{live_auth.url}/api/v1/experiments", json={"name": "x"},
                   headers={"Authorization": viewer._client.headers["authorization"]})
    assert r.status_code == 403
    r = httpx.get(f"{live_auth.url}/api/v1/users",
                  headers={"Authorization": editor._client.headers["authorization"]})
    assert r.status_code == 403


def test_writes_record_the_caller_not_the_claim(live_auth: LiveServer) -> None:
    editor = RestMetadataStore(live_auth.url, token=make_user(live_auth, "eve", "editor"))
    exp = editor.get_or_create_experiment("churn")
    run = editor.create_run(exp.experiment_id, "r", "mallory", 1, {})
    assert run.user == "eve"
    mv = editor.create_model_version("clf", run_id=None, flavor="sklearn", artifact="a" * 64,
                                     signature=Signature([], []), user="mallory", created_at=1)
    assert mv.user == "eve"
    editor.set_alias("clf", "production", 1, "mallory", 2)
    assert [e.user for e in editor.alias_history("clf")] == ["eve"]


def test_only_owners_and_admins_move_aliases(live_auth: LiveServer) -> None:
    alice = RestMetadataStore(live_auth.url, token=make_user(live_auth, "alice", "editor"))
    bob = RestMetadataStore(live_auth.url, token=make_user(live_auth, "bob", "editor"))
    root = RestMetadataStore(live_auth.url, token=make_user(live_auth, "root", "admin"))
    for _ in range(2):
        alice.create_model_version("clf", run_id=None, flavor="sklearn", artifact="a" * 64,
                                   signature=None, user="", created_at=1)
    alice.set_alias("clf", "production", 1, "", 2)
    with pytest.raises(PermissionDeniedError, match=r"'bob' does not own model 'clf'.*'alice'"):
        bob.set_alias("clf", "production", 2, "", 3)
    with pytest.raises(PermissionDeniedError):
        bob.delete_alias("clf", "production", "", 3)
    root.set_alias("clf", "production", 2, "", 4)
    assert alice.get_alias("clf", "production") == 2
    # an admin can make bob an owner
    r = httpx.put(f"{live_auth.url}/api/v1/models/clf/owners/bob",
                  headers={"Authorization": root._client.headers["authorization"]})
    assert r.status_code == 200
    bob.set_alias("clf", "production", 1, "", 5)
    assert [e.user for e in alice.alias_history("clf")] == ["alice", "root", "bob"]


def test_token_is_never_stored_listed_or_logged(live_auth: LiveServer, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    token = make_user(live_auth, "alice", "admin")
    secret = token.removeprefix("kiln_")
    listed = kiln_cli(live_auth.store.url, "tokens", "list", "--json")
    assert listed.returncode == 0 and "alice" in listed.stdout and secret not in listed.stdout
    db_file = Path(live_auth.store.url.removeprefix("sqlite:///"))
    with caplog.at_level("DEBUG"):
        store = RestMetadataStore(live_auth.url, token=token)
        store.get_or_create_experiment("e")
        assert secret not in repr(store)
        r = httpx.get(f"{live_auth.url}/api/v1/whoami",
                      headers={"Authorization": f"Bearer {token}"})
        assert r.json() == {"user": "alice", "role": "admin", "auth": True}
        assert secret not in r.text
        users = httpx.get(f"{live_auth.url}/api/v1/users",
                          headers={"Authorization": f"Bearer {token}"})
        assert users.status_code == 200 and secret not in users.text
        httpx.get(f"{live_auth.url}/api/v1/experiments",
                  headers={"Authorization": f"Bearer {token}x"})
    assert secret not in caplog.text
    live_auth.store.engine.dispose()
    for f in db_file.parent.glob(db_file.name + "*"):
        assert secret.encode() not in f.read_bytes()


def test_auth_is_forced_beyond_loopback() -> None:
    from kiln.server.app import auth_required

    assert auth_required("0.0.0.0", False) and auth_required("127.0.0.1", True)
    assert not auth_required("127.0.0.1", False)


def test_unknown_role_and_duplicate_user_are_one_line_errors(live_auth: LiveServer) -> None:
    out = kiln_cli(live_auth.store.url, "users", "create", "x", "--role", "root")
    assert out.returncode == 2 and "root" in out.stderr
    make_user(live_auth, "x", "viewer")
    out = kiln_cli(live_auth.store.url, "users", "create", "x")
    assert out.returncode == 2 and out.stderr.strip() == "error: user 'x' exists already"
