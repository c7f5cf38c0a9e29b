"""The web UI, driven in Debian's headless Chromium with Playwright (never a downloaded
browser). Screenshots go to tests/artifacts/screenshots/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kiln.entities import LineageEdge, Metric, RunArtifact, RunStatus, Signature

if TYPE_CHECKING:
    from conftest import LiveServer

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent.parent / "artifacts" / "screenshots"
pytestmark = pytest.mark.skipif(shutil.which("chromium") is None and not Path(CHROMIUM).exists(),
                                reason="needs Debian's chromium (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def populate(live: LiveServer) -> dict[str, str]:
    """60 runs with metrics over steps, params, an artifact, a model with aliases, lineage."""
    s = live.store
    exp = s.get_or_create_experiment("churn")
    ids = []
    for i in range(60):
        rid = s.create_run(exp.experiment_id, f"run-{i:02d}", "alice", 1000 + i, {"i": str(i)}
                           ).run_id
        s.write_metrics([(rid, Metric("loss", 1.0 / (step + 1 + i), step, 1))
                         for step in range(20)])
        s.log_batch(rid, [Metric("auc", 0.5 + i / 200, 0, 1)], params={"C": str(i % 3)})
        s.end_run(rid, RunStatus.FINISHED, 2000 + i)
        ids.append(rid)
    obj = live.artifacts.put_bytes(b"<h1>report</h1>")
    s.log_artifact(RunArtifact(ids[-1], "report.html", obj.sha256, obj.size))
    sig = Signature([{"name": "age", "type": "double"}], [{"name": "churn", "type": "long"}])
    for rid in ids[-2:]:
        mv = s.create_model_version("churn-clf", run_id=rid, flavor="sklearn", artifact="a" * 64,
                                    signature=sig, user="alice", created_at=3000)
        s.add_edges([LineageEdge("run", rid, "model_version", f"churn-clf/{mv.version}",
                                 "produced", 3000),
                     LineageEdge("dataset_version", "customers/1", "run", rid, "input", 3000)])
    s.set_alias("churn-clf", "production", 1, "alice", 4000)
    s.set_alias("churn-clf", "production", 2, "bob", 5000)
    return {"best": ids[-1], "second": ids[-2]}


def test_click_through_the_ui(live: LiveServer, browser: Any) -> None:
    from playwright.sync_api import expect

    ids = populate(live)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    js_errors: list[str] = []
    page.on("pageerror", lambda e: js_errors.append(str(e)))

    page.goto(live.url + "/")
    assert page.locator("#experiments").inner_text().count("churn") == 1
    assert "production → v2" in page.locator("#models").inner_text()
    page.screenshot(path=str(SHOTS / "home.png"), full_page=True)

    # runs: paged in the database, newest first, 50 a page
    page.click("text=churn")
    rows = page.locator("#runs tbody tr")
    expect(rows).to_have_count(50)
    assert "run-59" in rows.first.inner_text()
    page.click("#next")
    expect(page.locator("#runs tbody tr")).to_have_count(10)
    page.click("#prev")
    # sort by auc: the first click sorts descending, the second ascending
    page.click("#runs thead >> text=auc")
    assert "run-59" in page.locator("#runs tbody tr").first.inner_text()
    page.click("#runs thead >> text=auc")
    assert "run-00" in page.locator("#runs tbody tr").first.inner_text()
    # filter
    page.fill("input[name=filter]", "metrics.auc > 0.775 and params.C = '0'")
    page.click("button:has-text('Filter')")
    names = page.locator("#runs tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(names) == ["run-57"]
    page.fill("input[name=filter]", "metrics.auc >")
    page.click("button:has-text('Filter')")
    assert "invalid filter" in page.locator("#error").inner_text()
    page.goto(live.url + "/runs?experiment=churn")
    page.screenshot(path=str(SHOTS / "runs.png"), full_page=True)

    # compare two runs
    page.check(f"input.pick[value='{ids['best']}']")
    page.check(f"input.pick[value='{ids['second']}']")
    page.click("#compare-btn")
    page.wait_for_selector(".chart[data-metric=loss] .main-svg")
    assert page.locator("#compare").inner_text().count("run-5") == 2
    expect(page.locator(".chart[data-metric=loss] .legend .traces")).to_have_count(2)
    page.screenshot(path=str(SHOTS / "compare.png"), full_page=True)

    # run page: params, metrics chart over steps, artifacts, lineage
    page.click("#compare >> text=run-59")
    page.wait_for_selector(".chart[data-metric=loss] .main-svg")
    assert "C" in page.locator("#params").inner_text()
    assert "report.html" in page.locator("#artifacts").inner_text()
    lineage = page.locator("#lineage").inner_text()
    assert "dataset_version customers/1" in lineage and "model churn-clf/2" in lineage
    page.screenshot(path=str(SHOTS / "run.png"), full_page=True)

    # model page: versions, aliases and history, signature, lineage
    page.click("#lineage >> text=model churn-clf/2")
    assert "production → v2" in page.locator("#aliases").inner_text()
    versions = page.locator("#versions").inner_text()
    assert "age:double" in versions and "churn" in versions
    history = page.locator("#history").inner_text()
    assert "bob" in history and "alice" in history
    page.screenshot(path=str(SHOTS / "model.png"), full_page=True)

    # lineage view
    page.goto(live.url + "/lineage")
    page.fill("input[name=ref]", "dataset_version:customers/1")
    page.click("button:has-text('Walk')")
    expect(page.locator("#lineage a[href^='/runs/']")).to_have_count(2)
    page.screenshot(path=str(SHOTS / "lineage.png"), full_page=True)
    assert not js_errors, js_errors
    page.close()


def test_ui_needs_a_token_when_auth_is_on(live_auth: LiveServer, browser: Any) -> None:
    from kiln.server.security import issue_token

    live_auth.store.create_user("alice", "viewer", 1)
    _, token = issue_token(live_auth.store, "alice")
    live_auth.store.get_or_create_experiment("secret-exp")
    page = browser.new_page()
    page.goto(live_auth.url + "/runs")
    assert page.url.endswith("/login")
    page.fill("input[name=token]", "kiln_wrong")
    page.click("button:has-text('Log in')")
    assert "not valid" in page.content()
    page.fill("input[name=token]", token)
    page.click("button:has-text('Log in')")
    assert "secret-exp" in page.locator("#experiments").inner_text()
    assert "alice · viewer" in page.locator("nav").inner_text()
    page.screenshot(path=str(SHOTS / "login.png"))
    page.close()


def test_plotly_is_served_locally(live: LiveServer) -> None:
    import httpx

    r = httpx.get(live.url + "/static/plotly.min.js")
    assert r.status_code == 200 and b"plotly" in r.content[:2000].lower()


def populate_lifecycle(live: LiveServer) -> dict[str, str]:
    """dataset sales@1 → step run of a pipeline run → model churn/1 → deployment web."""
    from kiln.entities import DeploymentSpec, Route, StepRunWrite

    s = live.store
    exp = s.get_or_create_experiment("train")
    pipe = s.create_run(exp.experiment_id, "train-pipeline", "alice", 1,
                        {"kiln.type": "pipeline"}).run_id
    step = "5" * 32
    s.write_step_runs(exp.experiment_id, pipe, "alice", [
        StepRunWrite(step, True, "fit", RunStatus.FINISHED, 1, 2)])
    s.add_edges([LineageEdge("dataset_version", "sales@1", "run", step, "input", 2)])
    mv = s.create_model_version("churn", run_id=step, flavor="sklearn", artifact="a" * 64,
                                signature=None, user="alice", created_at=3)
    s.add_edges([LineageEdge("run", step, "model_version", f"churn/{mv.version}", "produced",
                             3)])
    s.set_alias("churn", "production", 1, "alice", 4)
    s.add_deployment_version("web", DeploymentSpec((Route("churn", alias="production",
                                                          weight=100),)),
                             action="create", user="alice", created_at=5, create=True)
    return {"pipeline": pipe, "step": step}


def test_lineage_walks_from_any_object(live: LiveServer, browser: Any) -> None:
    from playwright.sync_api import expect

    ids = populate_lifecycle(live)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    js_errors: list[str] = []
    page.on("pageerror", lambda e: js_errors.append(str(e)))

    # from the deployment, up to what it serves, what made it and the data
    page.goto(live.url + "/lineage")
    page.fill("input[name=ref]", "deployment:web")
    page.click("button:has-text('Walk')")
    up = page.locator("#upstream").inner_text()
    assert "serves" in up and "model churn/1" in up and "dataset_version sales@1" in up
    assert f"run {ids['pipeline'][:12]}" in up  # the step's pipeline run
    assert "nothing recorded" in page.locator("#downstream").inner_text()
    page.screenshot(path=str(SHOTS / "lineage-deployment.png"), full_page=True)

    # on to the model version: made by the step run, served by the deployment
    page.click("#upstream li:has(> a:text('model churn/1')) >> a.walk")
    expect(page.locator("#root")).to_contain_text("model churn/1")
    assert "deployment web" in page.locator("#downstream").inner_text()
    assert f"run {ids['step'][:12]}" in page.locator("#upstream").inner_text()

    # the pipeline run: its step runs below it, and on down to the deployment
    page.goto(live.url + f"/lineage?ref=run:{ids['pipeline']}")
    down = page.locator("#downstream").inner_text()
    assert "step" in down and f"run {ids['step'][:12]}" in down
    assert "model churn/1" in down and "deployment web" in down

    # the dataset version: everything downstream of it, reached through its link
    page.click("#downstream >> text=deployment web")
    expect(page.locator("#root")).to_contain_text("deployment web")
    page.goto(live.url + "/lineage?ref=dataset_version:sales@1")
    down = page.locator("#downstream").inner_text()
    assert f"run {ids['step'][:12]}" in down and "deployment web" in down
    page.screenshot(path=str(SHOTS / "lineage-dataset.png"), full_page=True)

    # a model alias URI, and an unknown object is one clear line
    page.goto(live.url + "/lineage?ref=models:/churn@production")
    expect(page.locator("#root")).to_contain_text("model churn/1")
    page.goto(live.url + "/lineage?ref=deployment:nope")
    assert "'nope'" in page.content()
    assert not js_errors, js_errors
    page.close()
