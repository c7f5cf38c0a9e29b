"""The deployments pages in Debian's headless Chromium (Playwright): routes and weights,
shadows, version history and the live traffic per route read from the prediction log."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kiln.entities import CanaryPolicy, DeploymentSpec, Route
from kiln.serving.predlog import LogRecord, PredictionLogger

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


def populate(live: LiveServer) -> None:
    """Deployment churn at version 3 (created, re-weighted, auto-rolled back) and 70 logged
    requests of the last minute: 40 production (2 failed), 10 challenger, 20 shadow."""
    s = live.store
    prod, chal = Route("clf", alias="production", weight=90), Route("clf", alias="challenger",
                                                                      weight=10)
    shadow = Route("clf", version=3)
    canary = CanaryPolicy("clf@challenger", max_error_rate=0.1)
    s.add_deployment_version("churn", DeploymentSpec((prod, chal), (shadow,), None, canary),
                             action="create", user="alice", created_at=1000, create=True)
    s.add_deployment_version("churn", DeploymentSpec((prod, Route("clf", alias="challenger",
                                                                   weight=30)), (shadow,),
                                                     None, canary),
                             action="set-weights", user="bob", created_at=2000)
    s.add_deployment_version("churn", DeploymentSpec((prod, Route("clf", alias="challenger",
                                                                   weight=0)), (shadow,),
                                                     None, canary),
                             action="auto-rollback", user="kiln", created_at=3000,
                             message="canary clf@challenger: error rate 30% exceeds 10%")
    s.add_deployment_version("other", DeploymentSpec((prod,)), action="create", user="alice",
                             created_at=4000, create=True)
    logger = PredictionLogger(s, live.artifacts, "churn", batch_rows=25)
    now = int(time.time() * 1000)
    for i in range(40):
        logger.log(LogRecord(f"p{i}", now - 30_000 + i * 500, "churn", 3, "clf@production",
                             "clf", 1, False, 500 if i < 2 else 200, 1.0 + i / 10,
                             b'{"records": []}', [0]))
    for i in range(10):
        logger.log(LogRecord(f"c{i}", now - 20_000 + i * 500, "churn", 2, "clf@challenger",
                             "clf", 2, False, 200, 5.0, b"{}", [1]))
    for i in range(20):
        logger.log(LogRecord(f"p{i}", now - 30_000 + i * 500, "churn", 3, "clf/3", "clf", 3,
                             True, 200, 2.0, b"{}", [1]))
    logger.close()
    assert logger.written == 70


def test_deployment_pages_show_routes_history_and_traffic(live: LiveServer,
                                                          browser: Any) -> None:
    populate(live)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    js_errors: list[str] = []
    page.on("pageerror", lambda e: js_errors.append(str(e)))

    page.goto(live.url + "/")
    page.click("nav >> text=Deployments")
    listing = page.locator("#deployments").inner_text()
    assert "churn" in listing and "other" in listing and "v3" in listing
    assert "clf/3" in listing  # the shadow
    page.click("#deployments a[href='/deployments/churn']")
    page.wait_for_selector("#routes")

    routes = page.locator("#routes tr")
    assert routes.count() == 3
    assert "clf@production" in routes.nth(1).inner_text() and "100.0%" in routes.nth(1).inner_text()
    assert "canary" in routes.nth(2).inner_text() and "0.0%" in routes.nth(2).inner_text()
    assert page.locator("#shadows").inner_text().strip() == "clf/3"
    assert "10.0%" in page.locator("#canary").inner_text()

    traffic = {row.split("\t")[0]: row.split("\t") for row in
               page.locator("#traffic tr").all_inner_texts()[1:]}
    assert set(traffic) == {"clf@production", "clf@challenger", "clf/3 (shadow)"}
    prod = traffic["clf@production"]
    assert prod[1] == "40" and prod[3] == "2" and prod[6].strip() == "v1"
    assert float(prod[2]) == pytest.approx(40 / 900, abs=0.01)  # over the 15-minute window
    assert traffic["clf@challenger"][4] == "5.00" and traffic["clf/3 (shadow)"][1] == "20"
    page.wait_for_selector("#rate-chart .main-svg")
    assert page.locator("#rate-chart .legend .traces").count() == 3

    history = page.locator("#history tr").all_inner_texts()[1:]
    assert [h.split("\t")[0] for h in history] == ["v3", "v2", "v1"]
    assert "auto-rollback" in history[0] and "error rate 30%" in history[0]
    assert "bob" in history[1] and "clf@challenger 30" in history[1]
    page.screenshot(path=str(SHOTS / "deployment.png"), full_page=True)

    page.goto(live.url + "/deployments/churn?minutes=1")
    assert page.locator("#traffic").inner_text().count("clf@") == 2
    page.goto(live.url + "/deployments/nope")
    assert "'nope' does not exist" in page.content()
    assert js_errors == []
