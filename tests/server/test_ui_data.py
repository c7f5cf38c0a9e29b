"""The datasets and features pages, driven in Debian's headless Chromium: what they show
for data versioned, validated and materialized through the public API."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
from test_ui import CHROMIUM, SHOTS, browser  # noqa: F401  (the module-scoped browser)

import kiln
from kiln.features import Entity, Feature, FeatureView
from kiln.workspace import Workspace

if TYPE_CHECKING:
    from conftest import LiveServer

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None and not Path(CHROMIUM).exists(),
                                reason="needs Debian's chromium (apt-get install -y chromium)")


@pytest.fixture
def served_ws(live: LiveServer, tmp_path: Path) -> Iterator[Workspace]:
    """A workspace writing to the live server's database and artifact store."""
    ws = Workspace(f"sqlite:///{tmp_path / 'server.db'}", str(live.artifacts.root),
                   home=tmp_path / "home")
    with kiln.use_workspace(ws):
        yield ws
    ws.close()


def _frame(seed: int, n: int = 300, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": np.arange(n) + 1,
        "event_timestamp": pd.Timestamp("2026-11-20", tz="UTC")
        - pd.to_timedelta(rng.integers(0, 86400, n), unit="s"),
        "spend": rng.normal(100 + shift, 10, n),
        "plan": rng.choice(["free", "pro"] if not shift else ["free", "pro", "team"], n),
    })


def test_dataset_and_feature_pages(live: LiveServer, served_ws: Workspace, tmp_path: Path,
                                   browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    table = tmp_path / "customers.parquet"
    _frame(0).to_parquet(table, index=False)
    kiln.data.add(table, name="customers")
    _frame(1, n=280, shift=30).drop(columns=["plan"]).to_parquet(table, index=False)
    kiln.data.add(table, name="customers", description="spend shifted")
    kiln.data.validate("customers@2", reference="customers@1")
    images = tmp_path / "images"
    (images / "a").mkdir(parents=True)
    for i in range(5):
        (images / "a" / f"{i}.png").write_bytes(bytes([i]) * 10)
    kiln.data.add(images, name="images")
    customer = Entity("customer", join_keys=["customer_id"])
    view = FeatureView("customer_stats", entities=[customer], source="customers@1",
                       features=[Feature("spend", "float64")], ttl=timedelta(days=2))
    kiln.features.apply([view])
    kiln.features.materialize(end="2026-11-21")

    page = browser.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda e: js_errors.append(str(e)))
    page.goto(live.url + "/")
    page.click("nav >> text=Datasets")
    rows = page.locator("#datasets tr")
    expect(rows).to_have_count(3)  # header + customers + images
    assert "v2" in rows.nth(1).inner_text() and "280" in rows.nth(1).inner_text()
    page.screenshot(path=str(SHOTS / "datasets.png"), full_page=True)

    page.click("#datasets >> text=customers")
    assert page.locator("#shown").inner_text() == "customers@2"
    assert page.locator("#versions tr").count() == 3
    assert "spend shifted" in page.locator("#versions").inner_text()
    schema = page.locator("#schema").inner_text()
    assert "spend" in schema and "float" in schema and "plan" not in schema
    assert "customers.parquet" in page.locator("#files").inner_text()
    reports = page.locator("#validations").inner_text()
    assert "failed against customers@1" in reports
    assert "missing_column" in reports and "'plan'" in reports
    page.click("#diff-btn")  # v1 -> v2 preselected
    diff = page.locator("#diff").inner_text()
    assert "1 changed" in diff and "rows 300 → 280" in diff and "- column plan" in diff
    page.screenshot(path=str(SHOTS / "dataset.png"), full_page=True)
    page.click("#versions >> text=v1")
    assert page.locator("#shown").inner_text() == "customers@1"
    assert "plan" in page.locator("#schema").inner_text()
    assert "free, pro" in page.locator("#schema").inner_text()

    page.goto(live.url + "/datasets/images")
    assert page.locator("#files tr").count() == 6
    assert "a/4.png" in page.locator("#files").inner_text()
    assert "not a single table" in page.locator("#schema").inner_text()

    page.click("nav >> text=Features")
    views = page.locator("#views").inner_text()
    assert "customer_stats" in views and "dataset: customers@1" in views
    assert "2026-11-21 00:00:00" in page.locator("#views .fresh").inner_text()
    page.screenshot(path=str(SHOTS / "features.png"), full_page=True)
    page.click("#views >> text=customer_stats")
    assert "customers@1" in page.locator("#definition").inner_text()
    fresh = page.locator("#freshness").inner_text()
    assert "2026-11-21 00:00:00" in fresh and "300" in fresh and " d" in fresh
    page.screenshot(path=str(SHOTS / "feature_view.png"), full_page=True)
    page.goto(live.url + "/datasets/nope")
    assert "'nope' does not exist" in page.content()
    assert js_errors == []
