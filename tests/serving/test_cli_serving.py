"""``kiln deploy``, ``kiln predict`` and ``kiln deploy package`` run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kiln.workspace import Workspace

CLI = [sys.executable, "-m", "kiln.cli.main"]


def _kiln(home: Path, *args: str, check: bool = True, cwd: Path | None = None
          ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KILN_HOME": str(home), "COLUMNS": "200"}
    out = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=180,
                         cwd=cwd)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_deploy_lifecycle_from_the_cli(served: Workspace) -> None:
    home = Path(served.settings.home)
    out = _kiln(home, "deploy", "create", "web", "--route", "bc@production:90", "--route",
                "bc@challenger:10", "--shadow", "bc@candidate", "-m", "first")
    assert out.stdout.strip() == ("deployment web version 1: bc@production:90, "
                                  "bc@challenger:10; shadows bc@candidate")
    _kiln(home, "deploy", "set-weights", "web", "bc@production:50", "bc@challenger:50")
    out = _kiln(home, "deploy", "rollback", "web")
    assert "version 3 (rollback to version 1)" in out.stdout
    shown = json.loads(_kiln(home, "deploy", "show", "web", "--json").stdout)
    assert [(h["version"], h["action"]) for h in shown["history"]] == [
        (1, "create"), (2, "set-weights"), (3, "rollback")]
    assert [r["weight"] for r in shown["routes"]] == [90, 10]
    assert shown["shadows"][0]["alias"] == "candidate"
    listed = json.loads(_kiln(home, "deploy", "list", "--json").stdout)
    assert sorted(d["name"] for d in listed) == ["churn", "web"]
    assert "History" in _kiln(home, "deploy", "show", "web").stdout
    for args, message in [
        (["deploy", "create", "web", "--route", "bc@production:1"], "exists already"),
        (["deploy", "create", "x", "--route", "bc@nope:1"], "no alias 'nope'"),
        (["deploy", "create", "x", "--route", "bc:1"], "MODEL@ALIAS:WEIGHT"),
        (["deploy", "set-weights", "web", "bc@other:5"], "not in the deployment"),
        (["deploy", "show", "ghost"], "deployment 'ghost' does not exist"),
    ]:
        bad = _kiln(home, *args, check=False)
        assert bad.returncode == 2 and bad.stderr.startswith("error: ") and message in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def test_batch_predict_streams_chunks_and_records_lineage(served: Workspace, tmp_path: Path,
                                                          breast_cancer: Any) -> None:
    X, model = breast_cancer
    big = pd.concat([X] * 4, ignore_index=True)
    big.to_parquet(tmp_path / "data.parquet")
    home = Path(served.settings.home)
    out = _kiln(home, "predict", "bc@production", "--input", str(tmp_path / "data.parquet"),
                "--output", str(tmp_path / "scored.parquet"), "--chunk-size", "500")
    assert "scored 2276 rows with bc version 1" in out.stdout
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    assert scored["prediction"].tolist() == model.predict(big).tolist()
    assert list(scored.columns[:-1]) == list(X.columns)
    edges = served.store.edges_from("model_version", "bc/1")
    assert [e.relation for e in edges] == ["scored"]
    assert served.store.edges_to("file", edges[0].dst_id)[1].relation == "input"
    missing = _kiln(home, "predict", "bc@production", "--input", str(tmp_path / "nope.parquet"),
                    "--output", str(tmp_path / "o.parquet"), check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    bad = X.drop(columns=["mean area"])
    bad.to_parquet(tmp_path / "bad.parquet")
    failed = _kiln(home, "predict", "bc/2", "--input", str(tmp_path / "bad.parquet"),
                   "--output", str(tmp_path / "o.parquet"), check=False)
    assert failed.returncode == 2 and "'mean area'" in failed.stderr
    assert not (tmp_path / "o.parquet").exists() and not (tmp_path / "o.parquet.partial").exists()


def test_package_writes_dockerfile_and_manifests(served: Workspace, tmp_path: Path) -> None:
    import kiln

    with kiln.start_run(experiment="e") as run:
        served.log_model(run.run_id, lambda df: df["x"], "fromrun",
                         input_example=pd.DataFrame({"x": [1.0]}))
    served.set_alias("fromrun", "production", 1)
    served.create_deployment("pkg", ["fromrun@production:1"])
    packages = json.loads(served.get_run(run.run_id).tags["kiln.packages"])
    home = Path(served.settings.home)
    out = _kiln(home, "deploy", "package", "pkg", "--output", str(tmp_path / "ctx"),
                "--replicas", "3")
    written = {Path(p).relative_to(tmp_path / "ctx").as_posix() for p in out.stdout.split()}
    assert written == {"Dockerfile", "requirements.txt", "README.md", "k8s/deployment.yaml",
                       "k8s/service.yaml", "k8s/hpa.yaml"}
    reqs = (tmp_path / "ctx" / "requirements.txt").read_text().splitlines()
    assert f"pandas=={packages['pandas']}" in reqs and f"numpy=={packages['numpy']}" in reqs
    dockerfile = (tmp_path / "ctx" / "Dockerfile").read_text()
    assert dockerfile.splitlines()[1].startswith("FROM python:3.")
    assert '"serve", "pkg"' in dockerfile
    dep = yaml.safe_load((tmp_path / "ctx" / "k8s" / "deployment.yaml").read_text())
    assert dep["kind"] == "Deployment" and dep["spec"]["replicas"] == 3
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    port = container["ports"][0]["containerPort"]
    svc = yaml.safe_load((tmp_path / "ctx" / "k8s" / "service.yaml").read_text())
    assert svc["kind"] == "Service" and svc["spec"]["ports"][0]["targetPort"] == port
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
    hpa = yaml.safe_load((tmp_path / "ctx" / "k8s" / "hpa.yaml").read_text())
    assert hpa["kind"] == "HorizontalPodAutoscaler"
    assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] == 3
