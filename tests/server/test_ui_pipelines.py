"""The pipelines pages, driven in Debian's headless Chromium with Playwright: real pipeline
runs (one failing) written through a Workspace on the server's own stores."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kiln.pipelines import pipeline, step
from kiln.settings import Settings
from kiln.workspace import Workspace

if TYPE_CHECKING:
    from conftest import LiveServer

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).parent.parent / "artifacts" / "screenshots"
pytestmark = pytest.mark.skipif(shutil.which("chromium") is None and not Path(CHROMIUM).exists(),
                                reason="needs Debian's chromium (apt-get install -y chromium)")


@step
def source(n: int) -> list[int]:
    return list(range(n))


@step
def total(values: list[int]) -> int:
    return sum(values)


@step
def check(value: int, limit: int) -> int:
    if value > limit:
        raise ValueError(f"total {value} is over the limit {limit}")
    return value


@step
def report(value: int) -> str:
    return f"total {value}"


@pipeline
def nightly(n: int = 5, limit: int = 100) -> None:
    values = source(n)
    report(check(total(values), limit))
    total(values)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def test_pipeline_runs_and_their_step_graphs(live: LiveServer, browser: Any,
                                             tmp_path: Path) -> None:
    from playwright.sync_api import expect

    db = live.store.url
    ws = Workspace(settings=Settings(home=tmp_path / "home", db_url=db,
                                     artifacts_url=str(live.artifacts.root)))
    try:
        ok = nightly.run(workspace=ws).raise_for_status()
        cached = nightly.run(workspace=ws)
        failed = nightly.run(workspace=ws, n=30)  # total 435 > 100: check fails
    finally:
        ws.close()
    assert cached.cached_steps and not failed.ok
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    js_errors: list[str] = []
    page.on("pageerror", lambda e: js_errors.append(str(e)))

    page.goto(live.url + "/")
    page.click("nav >> text=Pipelines")
    rows = page.locator("#pipeline-runs tbody tr")
    expect(rows).to_have_count(3)
    assert "FAILED" in rows.first.inner_text()  # newest first
    assert page.locator(f"#pipeline-runs tr[data-run='{ok.run_id}']").count() == 1
    page.screenshot(path=str(SHOTS / "pipelines.png"), full_page=True)

    page.click(f"#pipeline-runs tr[data-run='{failed.run_id}'] >> text={failed.run_id[:12]}")
    graph = page.locator("#pipeline-graph svg")
    expect(graph.locator("g.step")).to_have_count(5)
    status = {g.get_attribute("data-step"): g.get_attribute("data-status")
              for g in graph.locator("g.step").all()}
    assert status == {"source": "FINISHED", "total": "FINISHED", "total_2": "FINISHED",
                      "check": "FAILED", "report": "SKIPPED"}
    assert " ms" in (graph.locator("g.step[data-step=source]").text_content() or "")
    assert "over the limit" in page.locator("#steps tr[data-step=check]").inner_text()
    assert graph.locator("line").count() == 4  # source→total, source→total_2, total→check…
    page.screenshot(path=str(SHOTS / "pipeline_run.png"), full_page=True)

    page.goto(f"{live.url}/pipelines/{cached.run_id}")
    cached_status = {g.get_attribute("data-status")
                     for g in page.locator("#pipeline-graph g.step").all()}
    assert cached_status == {"CACHED"}

    page.goto(f"{live.url}/pipelines?pipeline=other")
    expect(page.locator("#pipeline-runs tbody tr")).to_have_count(1)
    assert "No pipeline runs" in page.locator("#pipeline-runs").inner_text()
    page.goto(f"{live.url}/pipelines/{'0' * 32}")
    assert "does not exist" in page.locator("body").inner_text()
    assert not js_errors
