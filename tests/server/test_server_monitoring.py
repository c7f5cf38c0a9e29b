"""Monitoring over ``kiln server``: the REST API and the monitoring pages (Playwright on
Debian's chromium), on windows a real monitor stored."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from kiln.workspace import Workspace

if TYPE_CHECKING:
    from conftest import LiveServer

CHROMIUM = "/usr/bin/chromium"


def _frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, n), rng.normal(0, 1, n)
    y = (x1 + x2 + rng.normal(0, 0.3, n) > 0).astype(int)
    return pd.DataFrame({"x1": x1 + shift, "x2": x2 + shift, "y": y})


def _monitored(tmp_path: Path) -> None:
    """A deployment with normal, then drifted traffic, monitored over two windows, in the
    database and artifact folder the ``live`` server serves."""
    db_url, root = f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "artifacts"
    with Workspace(db_url=db_url, artifacts_url=str(root), home=tmp_path / "home") as ws:
        _monitor_flow(ws, tmp_path)


def _monitor_flow(ws: Workspace, tmp_path: Path) -> None:
    """Train, deploy, send calm then drifted traffic and run the monitor on each window."""
    from sklearn.linear_model import LogisticRegression

    from kiln.monitoring.demo import _tick, send_traffic

    train = _frame(300, 0)
    train.to_parquet(tmp_path / "train.parquet")
    dv = ws.add_dataset(tmp_path / "train.parquet", "points")
    run = ws.create_run("points")
    ws.log_input(run.run_id, dv)
    model = LogisticRegression().fit(train[["x1", "x2"]], train["y"])
    ws.log_model(run.run_id, model, "clf", input_example=train[["x1", "x2"]].head(3))
    ws.end_run(run.run_id)
    ws.set_alias("clf", "production", 1)
    ws.create_deployment("points", ["clf@production:100"])
    ws.create_monitor("points-drift", "points", schedule=False)
    ws.add_alert_rule("points-drift", "drift.share_of_drifted_features > 0.3",
                      name="drift", sinks=["log"])
    t0 = _tick()
    calm = _frame(100, 1)
    send_traffic(ws, "points", calm[["x1", "x2"]], calm["y"], 100)
    t1 = _tick()
    ws.run_monitor("points-drift", start=t0, end=t1)
    moved = _frame(100, 2, shift=1.5)
    send_traffic(ws, "points", moved[["x1", "x2"]], moved["y"], 100)
    ws.run_monitor("points-drift", start=t1, end=_tick())


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    req = urllib.request.Request(url, json.dumps(body).encode(),
                                 {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.slow
def test_monitoring_api_and_pages(live: LiveServer, tmp_path: Path) -> None:
    _monitored(tmp_path)
    api = live.url + "/api/v1"
    status, listed = _get(f"{api}/monitors")
    assert status == 200
    assert [(m["name"], m["latest"]["seq"]) for m in listed["items"]] == [
        ("points-drift", 2)]
    status, mon = _get(f"{api}/monitors/points-drift")
    assert [w["data"]["drift"]["share_of_drifted_features"] for w in mon["windows"]] == [
        0.0, 1.0]
    assert [r["name"] for r in mon["rules"]] == ["drift"]
    status, body = _get(f"{api}/monitors/nope")
    assert status == 404 and "monitor 'nope' does not exist" in body["error"]["message"]
    status, rule = _post(f"{api}/monitors/points-drift/rules",
                         {"expression": "performance.accuracy < 0.8 for 2 windows",
                          "sinks": ["log"]})
    assert status == 201 and rule["name"] == "accuracy"
    status, body = _post(f"{api}/monitors/points-drift/rules", {"expression": "drift.x >> 1"})
    assert status == 400 and "does not parse at '>'" in body["error"]["message"]
    status, alerts = _get(f"{api}/alerts?monitor=points-drift")
    [alert] = alerts["items"]
    assert (alert["rule"], alert["window_seq"]) == ("drift", 2)
    status, one = _get(f"{api}/alerts/{alert['alert_id']}")
    assert one["led_to"]["kind"] == "alert"

    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium for the page checks")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(live.url + "/monitors")
        assert "points-drift" in page.locator("#monitors").inner_text()
        assert "drift.share_of_drifted_features > 0.3" in page.locator("#alerts").inner_text()
        page.click("#monitors >> text=points-drift")
        page.wait_for_selector(".chart[data-chart=drift] .main-svg")
        page.wait_for_selector(".chart[data-chart=features] .main-svg")
        windows = page.locator("#windows tbody tr").all_inner_texts()
        assert len(windows) == 2 and "x1, x2" in windows[0]
        assert "ks" in page.locator("#features").inner_text().lower() or \
            "wasserstein" in page.locator("#features").inner_text().lower()
        assert "accuracy" in page.locator("#rules").inner_text()
        assert errors == []
        browser.close()


@pytest.mark.slow
def test_monitoring_runs_through_the_rest_store(live: LiveServer, tmp_path: Path) -> None:
    """A client with KILN_SERVER set trains, deploys, monitors and gets alerted: every
    monitor, window, rule and alert lands in the server's database."""
    from kiln.settings import Settings

    with Workspace(settings=Settings(home=tmp_path / "client", server=live.url)) as ws:
        _monitor_flow(ws, tmp_path)
        assert [a.rule for a in ws.list_alerts("points-drift")] == ["drift"]
    s = live.store
    assert s.get_monitor("points-drift").deployment == "points"
    windows = s.list_monitor_results("points-drift")
    assert [w.seq for w in windows] == [1, 2]
    assert windows[1].data["drift"]["share_of_drifted_features"] == 1.0
    [alert] = s.list_alerts("points-drift")
    assert (alert.rule, alert.window_seq, alert.sinks) == ("drift", 2, {"log": "logged"})
    assert [r.expression for r in s.list_alert_rules("points-drift")] == [
        "drift.share_of_drifted_features > 0.3"]


def test_monitoring_routes_page_and_name_bad_values(live: LiveServer) -> None:
    """Windows holding NaN are shown (as "NaN"), lists page, bad input is named."""
    from kiln.entities import Alert, Monitor
    from kiln.metadata.rest import RestMetadataStore

    rest = RestMetadataStore(live.url)
    rest.create_monitor(Monitor("m", "d", 1, 2, {"alpha": 0.05}, "u", 1))
    for i in range(3):
        rest.add_monitor_result("m", window_start=i, window_end=i + 1, status="ok", rows=i,
                                data={"drift": {"p": float("nan")}, "i": i}, created_at=i)
    for i in range(5):
        rest.add_alert(Alert(0, "m", "r", "drift.p > 1", float(i), f"#{i}", i, i))
    assert [a.message for a in rest.list_alerts("m", limit=3)] == ["#4", "#3", "#2"]
    rest.close()
    api = f"{live.url}/api/v1"
    status, mon = _get(f"{api}/monitors/m?windows=2")
    assert status == 200 and [w["data"]["i"] for w in mon["windows"]] == [1, 2]
    assert mon["windows"][0]["data"]["drift"]["p"] == "NaN"
    status, listed = _get(f"{api}/monitors")
    assert listed["items"][0]["latest"]["seq"] == 3
    status, page1 = _get(f"{api}/alerts?monitor=m&limit=2")
    assert [a["message"] for a in page1["items"]] == ["#4", "#3"] and page1["next_offset"] == 2
    status, last = _get(f"{api}/alerts?monitor=m&limit=2&offset=4")
    assert [a["message"] for a in last["items"]] == ["#0"] and last["next_offset"] is None
    status, results = _get(f"{api}/monitors/m/results?last=2&limit=1")
    assert [r["seq"] for r in results["items"]] == [2] and results["next_offset"] == 1
    status, body = _post(f"{api}/monitors/m/results", {
        "window_start": 0, "window_end": 1, "status": "ok", "rows": 0,
        "data_json": "{not json", "created_at": 1})
    assert status == 400 and "'{not json'" in body["error"]["message"]
    status, body = _post(f"{api}/monitors/ghost/results", {
        "window_start": 0, "window_end": 1, "status": "ok", "rows": 0, "data_json": "{}",
        "created_at": 1})
    assert status == 404 and "'ghost'" in body["error"]["message"] and "'m'" in body[
        "error"]["message"]
    req = urllib.request.Request(f"{api}/monitors/m/rules/bad", json.dumps(
        {"expression": "drift.x >> 1"}).encode(), {"content-type": "application/json"},
        method="PUT")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 400 and "'>'" in json.loads(err.value.read())["error"]["message"]
