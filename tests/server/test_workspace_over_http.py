"""``KILN_SERVER`` makes the SDK and the CLI use the server, like a user on a team."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import kiln
from kiln.artifacts.http import HttpArtifactStore
from kiln.metadata.rest import RestMetadataStore

if TYPE_CHECKING:
    from conftest import LiveServer


def test_fluent_api_end_to_end_over_http(live: LiveServer, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("KILN_SERVER", live.url)
    ws = kiln.Workspace()
    assert isinstance(ws.store, RestMetadataStore)
    assert isinstance(ws.artifacts, HttpArtifactStore)
    with kiln.use_workspace(ws):
        with kiln.start_run(experiment="http", name="r1") as run:
            kiln.log_params({"C": 1.0})
            for step in range(500):
                kiln.log_metric("loss", 1.0 / (step + 1), step=step)
            (tmp_path / "notes.txt").write_text("hello")
            kiln.log_artifact(tmp_path / "notes.txt")
            model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
            kiln.log_model(model, "clf")
        ws.set_alias("clf", "production", 1)
        loaded = kiln.load_model("models:/clf@production")
        assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]
    # what the server recorded
    stored = live.store.get_run(run.run_id)
    assert stored.params == {"C": "1.0"} and stored.metrics["loss"] == pytest.approx(1 / 500)
    assert len(live.store.get_metric_history(run.run_id, "loss")) == 500
    arts = {a.path: a for a in live.store.list_artifacts(run.run_id)}
    assert live.artifacts.get_bytes(arts["notes.txt"].sha256) == b"hello"
    assert live.store.get_alias("clf", "production") == 1
    out = ws.download_artifact(run.run_id, "notes.txt", tmp_path / "out")
    assert out.read_text() == "hello"
    ws.close()


def test_cli_over_http(live: LiveServer, tmp_path: Path) -> None:
    exp = live.store.get_or_create_experiment("cli")
    run = live.store.create_run(exp.experiment_id, "from-server", "alice", 1, {})
    env = {**os.environ, "KILN_SERVER": live.url, "KILN_HOME": str(tmp_path / "client")}
    out = subprocess.run([sys.executable, "-m", "kiln.cli.main", "runs", "list", "-e", "cli",
                          "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert [r["run_id"] for r in json.loads(out.stdout)] == [run.run_id]
    assert not (tmp_path / "client" / "kiln.db").exists()  # nothing local


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "KILN_SERVER": "http://127.0.0.1:9", "KILN_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "kiln.cli.main", "experiments", "list"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.startswith("error: cannot reach the kiln server at http://127.0.0.1:9")
    assert len(out.stderr.strip().splitlines()) == 1
