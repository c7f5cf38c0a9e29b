"""`kiln demo`, the README's main job, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_runs_the_lifecycle(tmp_path: Path) -> None:
    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln"), "COLUMNS": "120"}
    cli = [sys.executable, "-m", "kiln.cli.main"]
    out = subprocess.run([*cli, "demo"], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "breast-cancer-clf@production -> version 1" in out.stdout
    assert "kiln runs list" in out.stdout
    assert "view 'patient_measurements' v1 (new)" in out.stdout
    assert "569 patients materialized online" in out.stdout
    assert "training set of 569 rows (0 with leaked follow-up values)" in out.stdout
    views = json.loads(subprocess.run([*cli, "features", "list", "--json"], capture_output=True,
                                      text=True, env=env, check=True).stdout)
    assert [(v["name"], v["features"]) for v in views] == [("patient_measurements", 30)]
    assert "11 of 11 steps served from the cache" in out.stdout
    assert "4b. Gate: version 2 (C=0.0001) blocked by roc_auc on holdout vs @production" in (
        " ".join(out.stdout.split()))
    assert "hash chain verified" in out.stdout
    assert list((tmp_path / ".kiln" / "cards").glob("*-card.html"))
    assert "kiln ui" in out.stdout
    runs = json.loads(subprocess.run([*cli, "runs", "list", "-e", "breast-cancer", "--json"],
                                     capture_output=True, text=True, env=env, check=True).stdout)
    assert len(runs) == 8 and all(r["status"] == "FINISHED" for r in runs)
    assert all(r["metrics"]["auc"] > 0.95 for r in runs)
    model = json.loads(subprocess.run([*cli, "models", "show", "breast-cancer-clf", "--json"],
                                      capture_output=True, text=True, env=env,
                                      check=True).stdout)
    assert model["aliases"] == {"production": 1}
    best = max(runs, key=lambda r: r["metrics"]["auc"])
    assert model["versions"][0]["run_id"] == best["run_id"]
    assert "200 rows for 200 requests" in out.stdout
    assert "every request is in the log" in out.stdout
    flat = " ".join(out.stdout.split())
    assert "converted: breast-cancer-lgbm v1 (lightgbm, onnxmltools) -> ONNX v2" in flat
    assert "<= tolerance 1e-04" in flat
    dep = json.loads(subprocess.run([*cli, "deploy", "show", "breast-cancer", "--json"],
                                    capture_output=True, text=True, env=env, check=True).stdout)
    assert [r["weight"] for r in dep["routes"]] == [90, 10] and len(dep["shadows"]) == 1
    flat = " ".join(out.stdout.split())  # the monitoring loop (kiln.monitoring.demo)
    assert "12. Alert 1 drift: drift.share_of_drifted_features" in flat
    assert "registered as challenger" in flat and "promoted to production" in flat
    assert "-promoted-> deployment_version:breast-cancer-monitored/3" in flat
    shown = json.loads(subprocess.run([*cli, "monitor", "show", "breast-cancer-drift", "--json"],
                                      capture_output=True, text=True, env=env,
                                      check=True).stdout)
    assert [w["status"] for w in shown["windows"]] == ["ok", "ok", "ok"]
    assert shown["windows"][-1]["data"]["ab"]["significant"] is True


def test_demo_versions_and_validates_its_data(tmp_path: Path) -> None:
    from rich.console import Console

    from kiln.demo import run_demo
    from kiln.workspace import Workspace

    console = Console(record=True, width=200)
    with Workspace(home=tmp_path / ".kiln") as ws:
        result = run_demo(ws, console)
        assert result.data is not None
        ref, batch = result.data.reference, result.data.batch
        assert (ref.ref, batch.ref) == ("breast-cancer@1", "breast-cancer@2")
        assert ref.rows is not None and batch.rows is not None and ref.rows + batch.rows == 569
        assert result.data.report.ok and result.data.report_path.exists()
        # the training pipeline reads the feature view's training set as a dataset version
        edges = ws.store.edges_from("dataset_version", "breast-cancer-training@1")
        assert any(e.dst_kind == "run" and e.relation == "input" for e in edges)
    text = console.export_text()
    assert "1a. Data versions" in text and "1b. Validation" in text
