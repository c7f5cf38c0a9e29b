"""Every subsystem through kiln server as a user meets it: the SDK with KILN_SERVER set
(data versions, deployments, the audit log) and the HTTP API (set weights, roll back,
online feature lookup, pipeline runs)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pandas as pd

from kiln.settings import Settings
from kiln.workspace import Workspace

if TYPE_CHECKING:
    from conftest import LiveServer


def _client_ws(live: LiveServer, tmp_path: Path, **extra: Any) -> Workspace:
    return Workspace(settings=Settings(home=tmp_path / "client", server=live.url, **extra))


def test_sdk_over_the_server_versions_data_and_deploys(live: LiveServer, tmp_path: Path
                                                       ) -> None:
    ws = _client_ws(live, tmp_path)
    csv = tmp_path / "sales.csv"
    csv.write_text("x,y\n1,2\n3,4\n")
    dv = ws.add_dataset(csv, "sales")
    assert (dv.name, dv.version, dv.rows) == ("sales", 1, 2)
    assert live.store.get_dataset_version("sales", 1).tree == dv.tree
    assert ws.load_dataset("sales@1")["y"].tolist() == [2, 4]

    ws.log_model(None, lambda df: df["x"] * 2, "double")
    ws.log_model(None, lambda df: df["x"] * 3, "double")
    ws.set_alias("double", "production", 1)
    ws.set_alias("double", "challenger", 2)
    dep = ws.create_deployment("dbl", ["double@production:90", "double@challenger:10"])
    assert dep.version == 1 and live.store.get_deployment("dbl").routes == dep.routes
    ws.set_weights("dbl", {"double@production": 50, "double@challenger": 50})
    back = ws.rollback_deployment("dbl")
    assert back.version == 3 and back.spec == dep.spec and back.action == "rollback"

    api = f"{live.url}/api/v1"
    r = httpx.put(f"{api}/deployments/dbl/weights",
                  json={"weights": {"double@challenger": 100, "double@production": 0}})
    assert r.status_code == 200 and r.json()["version"] == 4
    r = httpx.post(f"{api}/deployments/dbl/rollback", json={"to_version": 2})
    assert r.json()["action"] == "rollback" and r.json()["spec"]["routes"][0]["weight"] == 50
    history = httpx.get(f"{api}/deployments/dbl/history", params={"action": "rollback"}).json()
    assert [d["version"] for d in history["items"]] == [3, 5]
    r = httpx.post(f"{api}/deployments", json={"name": "bad", "routes": ["double@nope:1"]})
    assert r.status_code == 404 and "'nope'" in r.json()["error"]["message"]
    r = httpx.post(f"{api}/deployments/dbl/rollback", json={"to_version": 9})
    assert r.status_code == 400 and "version 9" in r.json()["error"]["message"]

    actions = [e.action for e in ws.store.list_audit_events(object_kind="model")]
    assert actions.count("alias.set") == 2
    verify = httpx.get(f"{api}/audit/verify").json()
    assert verify["ok"] and verify["checked"] == len(ws.store.list_audit_events())
    ws.close()


def test_online_features_are_looked_up_through_the_server(tmp_path: Path,
                                                          start_server: Any) -> None:
    from kiln.features import Entity, Feature, FeatureView

    online = f"sqlite:///{tmp_path / 'online.db'}"
    frame = pd.DataFrame({
        "driver_id": [1, 1, 2], "f": [0.5, 0.7, 2.0],
        "event_timestamp": pd.to_datetime([1_000, 2_000, 1_500], unit="s", utc=True)})
    path = tmp_path / "stats.parquet"
    frame.to_parquet(path, index=False)
    settings = Settings(home=tmp_path / "server", db_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                        online_store=online)
    with start_server(settings.db_url, tmp_path / "artifacts", ui=False,
                      settings=settings) as live:
        ws = _client_ws(live, tmp_path, online_store=online)
        view = FeatureView("stats", entities=[Entity("driver", join_keys=["driver_id"])],
                           source=str(path), features=[Feature("f", "float64")],
                           ttl=timedelta(days=36500))
        ws.apply_features([view])
        ws.materialize()
        api = f"{live.url}/api/v1"
        r = httpx.post(f"{api}/features/online", json={
            "features": ["stats:f"], "entities": {"driver_id": [1, 2, 3]}})
        assert r.status_code == 200, r.text
        assert r.json()["features"] == {"f": [0.7, 2.0, None]}
        r = httpx.post(f"{api}/features/online", json={
            "features": ["nope:f"], "entities": {"driver_id": [1]}})
        assert r.status_code == 404 and "'nope'" in r.json()["error"]["message"]
        views = httpx.get(f"{api}/features/definitions", params={"kind": "feature_view"})
        assert [d["name"] for d in views.json()["items"]] == ["stats"]
        state = httpx.get(f"{api}/features/materializations/stats",
                          params={"target": online}).json()
        assert state["rows"] == 2
        ws.close()


def test_pipeline_runs_and_steps_are_listed(live: LiveServer) -> None:
    from kiln.entities import RunStatus, StepRunWrite

    s = live.store
    exp = s.get_or_create_experiment("train")
    for i in range(3):
        parent = s.create_run(exp.experiment_id, f"p{i}", "u", 100 + i,
                              {"kiln.type": "pipeline", "kiln.pipeline": "m:train"}).run_id
        s.write_step_runs(exp.experiment_id, parent, "u", [
            StepRunWrite(f"{i}a".ljust(32, "0"), True, "load", RunStatus.FINISHED, 100, 101),
            StepRunWrite(f"{i}b".ljust(32, "0"), True, "fit", RunStatus.FAILED, 102, 103)])
    s.create_run(exp.experiment_id, "plain", "u", 1, {})
    api = f"{live.url}/api/v1"
    body = httpx.get(f"{api}/pipelines/runs", params={"limit": 2}).json()
    assert [r["name"] for r in body["items"]] == ["p2", "p1"] and body["next_offset"] == 2
    body = httpx.get(f"{api}/pipelines/runs", params={"pipeline": "other"}).json()
    assert body["items"] == []
    parent = httpx.get(f"{api}/pipelines/runs", params={"offset": 2}).json()["items"][0]
    steps = httpx.get(f"{api}/pipelines/runs/{parent['run_id']}/steps").json()["items"]
    assert [st["name"] for st in steps] == ["load", "fit"]
    failed = httpx.get(f"{api}/pipelines/runs/{parent['run_id']}/steps",
                       params={"status": "FAILED"}).json()["items"]
    assert [st["name"] for st in failed] == ["fit"]
