"""Access control on every router: no token → 401, revoked → 401, viewer writes → 403,
editors write (recorded under their own name), only admins manage users and tokens, and
a token's secret is returned once and never logged or listed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from kiln.server.security import issue_token

if TYPE_CHECKING:
    from conftest import LiveServer

SHA = "a" * 64
# (method, path, body) of every write of the new routers; each must need an editor.
WRITES: list[tuple[str, str, Any]] = [
    ("POST", "/datasets/sales/versions", {"tree": SHA, "kind": "file", "size": 1,
                                          "file_count": 1, "created_at": 1}),
    ("PUT", "/datasets/sales/versions/1/schema", {"schema": {}}),
    ("POST", "/features/definitions", {"definitions": [
        {"kind": "entity", "name": "driver", "spec": {"join_keys": ["driver_id"]}}],
        "created_at": 1}),
    ("PUT", "/features/materializations", {"view": "v", "target": "t", "view_version": 1,
                                           "until": 1, "rows": 1, "updated_at": 1}),
    ("POST", "/pipelines/step-runs", {"experiment_id": 1, "parent_run_id": "p",
                                      "writes": []}),
    ("PUT", "/pipelines/triggers", {"trigger_id": "t", "pipeline": "m:f", "kind": "cron"}),
    ("PUT", "/pipelines/triggers/t/state", {"state": {}, "updated_at": 1}),
    ("POST", "/pipelines/triggers/t/fires/k", {"owner": "o", "fired_at": 1}),
    ("PUT", "/pipelines/triggers/t/fires/k/run", {"run_id": "r"}),
    ("POST", "/pipelines/events", {"kind": "alert", "name": "a", "created_at": 1}),
    ("POST", "/pipelines/leases/l", {"owner": "o", "now": 1, "ttl_ms": 1}),
    ("DELETE", "/pipelines/leases/l?owner=o", None),
    ("POST", "/deployments", {"name": "d", "routes": ["m@production:100"]}),
    ("POST", "/deployments/d/versions", {"spec": {"routes": [{"model": "m", "version": 1,
                                                              "weight": 1}]},
                                         "action": "create", "created_at": 1,
                                         "create": True}),
    ("PUT", "/deployments/d/weights", {"weights": {"m/1": 1}}),
    ("POST", "/deployments/d/rollback", {}),
    ("POST", "/deployments/d/prediction-logs", {"artifact": SHA, "rows": 1, "start_time": 1,
                                                "end_time": 2, "created_at": 2}),
    ("POST", "/feedback", {"items": [{"request_id": "r", "deployment": "d", "label": 1,
                                      "timestamp": 1}]}),
    ("POST", "/audit/events", {"action": "x.y", "object_kind": "k", "object_id": "i",
                               "timestamp": 1}),
]
READS = ["/datasets", "/datasets/sales/versions", "/features/definitions",
         "/pipelines/runs", "/pipelines/triggers", "/pipelines/events?kind=a&name=b",
         "/deployments", "/deployments/d/history", "/deployments/d/feedback",
         "/audit/events", "/audit/head", "/audit/verify"]
ADMIN_ONLY: list[tuple[str, str, Any]] = [
    ("GET", "/users", None), ("POST", "/users", {"name": "new", "role": "viewer"}),
    ("GET", "/tokens", None), ("POST", "/tokens", {"user": "vic"}),
    ("DELETE", "/tokens/nope", None),
]


def _tokens(live: LiveServer) -> dict[str, str]:
    out = {}
    for name, role in (("vic", "viewer"), ("eve", "editor"), ("root", "admin")):
        live.store.create_user(name, role, 1)
        out[role] = issue_token(live.store, name, "test")[1]
    return out


def _send(live: LiveServer, method: str, path: str, body: Any, token: str | None
          ) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{live.url}/api/v1{path}", json=body, headers=headers)


@pytest.mark.slow
def test_every_write_needs_an_editor(live_auth: LiveServer) -> None:
    tokens = _tokens(live_auth)
    for method, path, body in WRITES:
        r = _send(live_auth, method, path, body, None)
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        r = _send(live_auth, method, path, body, tokens["viewer"])
        assert r.status_code == 403, (method, path, r.text)
        assert "'vic' has role 'viewer'" in r.json()["error"]["message"]
        r = _send(live_auth, method, path, body, tokens["editor"])
        assert r.status_code not in (401, 403), (method, path, r.text)
    for path in READS:
        assert _send(live_auth, "GET", path, None, None).status_code == 401, path
        r = _send(live_auth, "GET", path, None, tokens["viewer"])
        assert r.status_code == 200, (path, r.text)


def test_writes_are_recorded_under_the_token_user(live_auth: LiveServer) -> None:
    editor = _tokens(live_auth)["editor"]
    sent = {"tree": SHA, "kind": "file", "size": 1, "file_count": 1, "created_at": 1,
            "user": "mallory"}
    assert _send(live_auth, "POST", "/datasets/sales/versions", sent, editor).json()[
        "user"] == "eve"
    r = _send(live_auth, "POST", "/audit/events", {"actor": "mallory", "action": "x.y",
                                                   "object_kind": "k", "object_id": "i",
                                                   "timestamp": 1}, editor)
    assert r.json()["actor"] == "eve"
    defs = _send(live_auth, "POST", "/features/definitions", {"definitions": [
        {"kind": "entity", "name": "driver", "spec": {"join_keys": ["id"]}}],
        "user": "mallory", "created_at": 1}, editor)
    assert defs.json()["items"][0]["user"] == "eve"
    dep = _send(live_auth, "POST", "/deployments/d/versions", {
        "spec": {"routes": [{"model": "m", "version": 1, "weight": 1}]}, "action": "create",
        "user": "mallory", "created_at": 1, "create": True}, editor)
    assert dep.json()["user"] == "eve"
    actors = {e["actor"] for e in _send(live_auth, "GET", "/audit/events", None,
                                        editor).json()["items"]}
    assert "mallory" not in actors


def test_revoked_token_gets_401_on_new_routers(live_auth: LiveServer) -> None:
    token = _tokens(live_auth)["editor"]
    assert _send(live_auth, "GET", "/deployments", None, token).status_code == 200
    token_id = live_auth.store.list_tokens("eve")[0].token_id
    live_auth.store.revoke_token(token_id, 2)
    for path in ("/deployments", "/datasets", "/audit/events"):
        r = _send(live_auth, "GET", path, None, token)
        assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]


def test_only_admins_manage_users_and_tokens(live_auth: LiveServer,
                                             caplog: pytest.LogCaptureFixture) -> None:
    tokens = _tokens(live_auth)
    for role in ("viewer", "editor"):
        for method, path, body in ADMIN_ONLY:
            r = _send(live_auth, method, path, body, tokens[role])
            assert r.status_code == 403, (role, method, path, r.text)
    with caplog.at_level("DEBUG"):
        made = _send(live_auth, "POST", "/tokens", {"user": "vic", "label": "ci"},
                     tokens["admin"])
        assert made.status_code == 200
        secret = made.json()["secret"]
        assert secret.startswith("kiln_")
        listed = _send(live_auth, "GET", "/tokens", None, tokens["admin"])
        assert listed.status_code == 200 and secret not in listed.text
        assert {t["label"] for t in listed.json()["items"]} == {"test", "ci"}
        assert _send(live_auth, "GET", "/whoami", None, secret).json()["user"] == "vic"
        assert _send(live_auth, "DELETE", f"/tokens/{made.json()['token_id']}", None,
                     tokens["admin"]).status_code == 200
        assert _send(live_auth, "GET", "/whoami", None, secret).status_code == 401
        r = _send(live_auth, "POST", "/users", {"name": "ann", "role": "editor"},
                  tokens["admin"])
        assert r.json()["role"] == "editor"
        r = _send(live_auth, "POST", "/users", {"name": "ann"}, tokens["admin"])
        assert r.status_code == 409 and "'ann' exists already" in r.json()["error"]["message"]
    assert secret not in caplog.text and secret.removeprefix("kiln_") not in caplog.text


# The monitoring writes, in an order where each editor write succeeds.
MONITORING_WRITES: list[tuple[str, str, Any]] = [
    ("POST", "/monitors", {"name": "m", "deployment": "d", "every_ms": 1, "window_ms": 2,
                           "user": "mallory", "created_at": 1}),
    ("POST", "/monitors/m/results", {"window_start": 0, "window_end": 1, "status": "ok",
                                     "rows": 1, "data_json": '{"drift": {"x": NaN}}',
                                     "created_at": 1}),
    ("PUT", "/monitors/m/rules/r", {"expression": "drift.x > 1", "sinks": ["log"]}),
    ("POST", "/monitors/m/rules", {"expression": "drift.y > 1", "sinks": ["log"]}),
    ("DELETE", "/monitors/m/rules/r", None),
    ("POST", "/alerts", {"monitor": "m", "rule": "y", "expression": "drift.y > 1",
                         "value": "Infinity", "window_seq": 1, "created_at": 1}),
    ("PUT", "/alerts/1/delivery", {"event_id": 0, "sinks": {"log": "logged"}}),
    ("PUT", "/reference-profiles/clf/1", {"artifact": SHA, "dataset": "d@1", "rows": 1,
                                          "created_at": 1}),
    ("DELETE", "/monitors/m", None),
]
MONITORING_READS = ["/monitors", "/monitors/m/results?last=1", "/alert-rules", "/alerts",
                    "/alerts/1", "/reference-profiles/clf/1"]


def test_monitoring_writes_need_an_editor(live_auth: LiveServer) -> None:
    tokens = _tokens(live_auth)
    for method, path, body in MONITORING_WRITES:
        r = _send(live_auth, method, path, body, None)
        assert r.status_code == 401, (method, path, r.text)
        r = _send(live_auth, method, path, body, tokens["viewer"])
        assert r.status_code == 403, (method, path, r.text)
        assert "'vic' has role 'viewer'" in r.json()["error"]["message"]
        r = _send(live_auth, method, path, body, tokens["editor"])
        assert r.status_code in (200, 201), (method, path, r.text)
    for path in MONITORING_READS:
        assert _send(live_auth, "GET", path, None, None).status_code == 401, path
        r = _send(live_auth, "GET", path, None, tokens["viewer"])
        assert r.status_code == 200, (path, r.text)
    s = live_auth.store
    assert s.list_monitors() == []  # deleted last; its results and alerts stay
    [window] = s.list_monitor_results("m")
    assert window.data["drift"]["x"] != window.data["drift"]["x"]  # NaN came through
    [alert] = s.list_alerts("m")
    assert (alert.rule, alert.sinks) == ("y", {"log": "logged"})
    assert alert.value == float("inf")
    assert s.get_reference_profile("clf", 1) is not None


def test_monitors_are_recorded_under_the_token_user(live_auth: LiveServer) -> None:
    editor = _tokens(live_auth)["editor"]
    r = _send(live_auth, "POST", "/monitors", MONITORING_WRITES[0][2], editor)
    assert r.status_code == 201 and r.json()["user"] == "eve"
    assert live_auth.store.get_monitor("m").user == "eve"
    r = _send(live_auth, "POST", "/monitors", MONITORING_WRITES[0][2], editor)
    assert r.status_code == 409 and "'m'" in r.json()["error"]["message"]
