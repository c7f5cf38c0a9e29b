"""The HTML report: statistics only, plotly inlined once and compressed, small at any size,
and it draws in a real browser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring import (
    Profile,
    WindowStats,
    check_quality,
    classification_metrics,
    detect_drift,
    render_report,
)

CHROMIUM = "/usr/bin/chromium"


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    share = 0.3 + shift / 100
    return pd.DataFrame({"age": rng.normal(40 + shift, 10, n),
                         "plan": rng.choice(["basic", "pro"], n, p=[1 - share, share])})


def windows(reference: Profile, rows: int) -> list[object]:
    out: list[object] = []
    for i, shift in enumerate([0, 0, 10]):
        df = frame(rows, i + 10, shift)
        prof = Profile.from_frame(df, reference=reference)
        out.append(WindowStats(f"2026-11-26 0{i}:00", f"2026-11-26 0{i}:59",
                               detect_drift(reference, prof), check_quality(df, reference),
                               classification_metrics([0, 1, 1], [0, 1, 0], [0.2, 0.9, 0.4]),
                               prof))
    # an empty window, given as a plain tuple with dict forms, as a store would hand it back
    empty = detect_drift(reference, frame(5, 0).iloc[:0])
    out.append(("2026-11-26 03:00", "2026-11-26 03:59", empty.to_dict()))
    return out


def test_report_holds_statistics_only_and_stays_small(tmp_path: Path) -> None:
    reference = Profile.from_frame(frame(20_000, 1))
    small = render_report(windows(reference, 1_000), reference, tmp_path / "small.html")
    big = render_report(windows(reference, 100_000), reference, tmp_path / "big.html")
    text = big.read_text()
    assert big.stat().st_size < 2_000_000
    assert abs(big.stat().st_size - small.stat().st_size) < 5_000  # rows do not enter it
    assert text.count("id=plotly-a85") == 1
    head, rest = text.split("<script id=plotly-a85 type=application/octet-stream>")
    page = head + rest.split("</script>", 1)[1]
    assert "http" not in page and "<script src" not in page and "empty window" in page
    figures = json.loads(text.split("<script id=figures type=application/json>")[1]
                         .split("</script>")[0])
    ids = [fid for fid, _ in figures]
    assert {"d0", "s0", "d1", "s1", "t0", "t1", "t2"} <= set(ids)
    assert "drifted" in text


def test_bad_windows_are_one_clear_error(tmp_path: Path) -> None:
    reference = Profile.from_frame(frame(100, 1))
    with pytest.raises(InvalidArgumentError, match="start and end"):
        render_report([{"drift": None}], reference, tmp_path / "r.html")
    with pytest.raises(InvalidArgumentError, match="must be a Profile"):
        render_report([], {"rows": 1}, tmp_path / "r.html")  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None and not Path(CHROMIUM).exists(),
                    reason="needs Debian's chromium (apt-get install -y chromium)")
def test_report_draws_its_plots_in_a_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    reference = Profile.from_frame(frame(5_000, 1))
    path = render_report(windows(reference, 2_000), reference, tmp_path / "report.html")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function("!document.getElementById('status')", timeout=60_000)
        drawn = page.locator(".plot .main-svg").count()
        browser.close()
    assert errors == [] and drawn >= 7
