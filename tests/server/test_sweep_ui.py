"""The sweep pages of the web UI, in Debian's headless Chromium with Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kiln.workspace import Workspace

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


def _train(params: dict[str, Any]) -> None:
    import kiln

    for step in range(6):
        kiln.log_metric("loss", (params["x"] - 1.0) ** 2 + params["y"] / (step + 1), step=step)


def test_sweep_pages_show_best_trial_counts_and_plots(live: LiveServer, browser: Any,
                                                      tmp_path: Path) -> None:
    from kiln.sweeps import sweep

    ws = Workspace(db_url=live.store.url, artifacts_url=str(live.artifacts.root))
    result = sweep(_train, {"x": {"type": "float", "low": -3.0, "high": 3.0},
                            "y": {"type": "float", "low": 0.0, "high": 1.0}},
                   trials=10, executor="local", name="ui-sweep", seed=7, workspace=ws)
    counts = result.counts()
    page = browser.new_page()
    page.goto(f"{live.url}/sweeps")
    row = page.locator("#sweeps tr", has_text="ui-sweep")
    assert row.locator("td").nth(3).inner_text() == str(counts["COMPLETE"])
    row.locator("a").click()
    page.wait_for_url(f"{live.url}/sweeps/ui-sweep")
    assert page.locator("h1").inner_text() == "Sweep ui-sweep"
    best = page.locator("#best").inner_text()
    assert f"#{result.best_trial.number}" in best  # type: ignore[union-attr]
    assert f"{counts['PRUNED']} pruned" in page.locator("#counts").inner_text()
    assert page.locator("#importance tr").count() == 3  # header, x and y
    assert page.locator("#trials tr").count() == 11
    page.wait_for_selector("#sweep-plots .plot .main-svg")
    assert page.locator("#sweep-plots .plot .main-svg").count() >= 2
    # Plotly keeps each figure on its element: history, then parallel coordinates.
    titles = page.evaluate("Array.from(document.querySelectorAll('#sweep-plots .plot'))"
                           ".map(el => el.layout.title.text)")
    assert titles == ["Optimization History Plot", "Parallel Coordinate Plot"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "sweep.png"), full_page=True)
    page.locator("#best a").click()
    page.wait_for_url(f"{live.url}/runs/{result.best_run_id}")
    page.goto(f"{live.url}/sweeps/nope")
    assert "sweep 'nope' does not exist" in page.content()
    page.close()
    ws.close()
