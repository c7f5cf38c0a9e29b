"""The fluent tracking API used as a user would, end to end."""

from __future__ import annotations

import asyncio
import math
import threading
from pathlib import Path

import pandas as pd
import pytest

import kiln
from kiln.entities import RunStatus
from kiln.exceptions import FilterSyntaxError, InvalidArgumentError, NoActiveRunError, NotFoundError
from kiln.workspace import Workspace


def test_issue_example(ws: Workspace, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text("<h1>ok</h1>")
    with kiln.start_run(experiment="churn", name="lr-c1", tags={"team": "risk"}) as run:
        kiln.log_params({"C": 1.0, "penalty": "l2"})
        kiln.log_metric("auc", 0.93, step=0)
        kiln.log_metrics({"f1": 0.9, "loss": 0.2}, step=1)
        kiln.log_artifact(str(report))
    with kiln.start_run(experiment="churn", name="lr-c10"):
        kiln.log_params({"C": 10.0, "penalty": "l2"})
        kiln.log_metric("auc", 0.95)
    df = kiln.search_runs(experiment="churn", filter="metrics.auc > 0.9 and params.C = '1.0'",
                          order_by=["metrics.auc DESC"], max_results=100)
    assert list(df["run_id"]) == [run.run_id]
    row = df.iloc[0]
    assert (row["name"], row["status"], row["metrics.auc"], row["params.penalty"],
            row["tags.team"]) == ("lr-c1", "FINISHED", 0.93, "l2", "risk")
    assert isinstance(row["start_time"], pd.Timestamp) and row["end_time"] >= row["start_time"]
    assert [a.path for a in ws.list_artifacts(run.run_id)] == ["report.html"]
    got = ws.download_artifact(run.run_id, "report.html", tmp_path / "dl")
    assert got.read_text() == "<h1>ok</h1>"
    all_runs = kiln.search_runs(experiment="churn", order_by=["metrics.auc DESC"])
    assert list(all_runs["name"]) == ["lr-c10", "lr-c1"]


def test_run_records_environment(ws: Workspace) -> None:
    with kiln.start_run(experiment="e") as run:
        pass
    tags = kiln.get_run(run.run_id).tags
    assert tags["kiln.python"].count(".") == 2
    assert "pandas" in tags["kiln.packages"] and tags["kiln.user"] == ws.user
    # this test suite runs from a git checkout
    assert len(tags.get("kiln.git.commit", "x" * 40)) == 40


def test_failed_and_killed_runs(ws: Workspace) -> None:
    with pytest.raises(ValueError), kiln.start_run(experiment="e", name="boom") as failed:
        raise ValueError("bad data")
    with pytest.raises(KeyboardInterrupt), kiln.start_run(experiment="e") as killed:
        raise KeyboardInterrupt
    f = kiln.get_run(failed.run_id)
    assert f.status is RunStatus.FAILED and f.error == "ValueError: bad data"
    assert kiln.get_run(killed.run_id).status is RunStatus.KILLED
    assert kiln.active_run() is None


def test_metric_history_and_buffer_durability(ws: Workspace) -> None:
    with kiln.start_run(experiment="e") as run:
        for i in range(20_000):
            kiln.log_metric("loss", 1.0 / (i + 1), step=i)
        kiln.log_metric("nan_metric", float("nan"))
    history = kiln.get_metric_history(run.run_id, "loss")
    assert len(history) == 20_000 and history[-1].step == 19_999
    assert ws.metric_buffer.pending() == 0
    run_obj = kiln.get_run(run.run_id)
    assert run_obj.metrics["loss"] == pytest.approx(1 / 20_000)
    assert math.isnan(run_obj.metrics["nan_metric"])


def test_nested_runs_and_context_isolation(ws: Workspace) -> None:
    seen: dict[str, object] = {}
    with kiln.start_run(experiment="e", name="parent") as parent:
        with kiln.start_run(name="child") as child:
            assert kiln.active_run() is child

        def other_thread() -> None:
            seen["thread"] = kiln.active_run()

        t = threading.Thread(target=other_thread)
        t.start()
        t.join()

        async def task() -> object:
            with kiln.start_run(experiment="e", name="in-task") as r:
                await asyncio.sleep(0)
                return kiln.active_run() is r

        assert asyncio.run(task()) is True
        assert kiln.active_run() is parent
    assert seen["thread"] is None
    assert kiln.get_run(child.run_id).parent_run_id == parent.run_id
    assert kiln.get_run(child.run_id).experiment == "e"


def test_bad_input_is_named(ws: Workspace) -> None:
    with pytest.raises(NoActiveRunError, match="start_run"):
        kiln.log_metric("auc", 0.9)
    with kiln.start_run(experiment="e"):
        with pytest.raises(InvalidArgumentError, match="metric 'auc' got 'high'"):
            kiln.log_metric("auc", "high")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="step '3'"):
            kiln.log_metric("auc", 0.9, step="3")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="metric name 'a\\$b'"):
            kiln.log_metric("a$b", 1.0)
        with pytest.raises(InvalidArgumentError, match="metric 'x' got True"):
            kiln.log_metrics({"x": True})
    with pytest.raises(FilterSyntaxError, match="position"):
        kiln.search_runs(filter="metrics.auc >> 1")
    with pytest.raises(NotFoundError, match="experiment 'nope'"):
        kiln.search_runs(experiment="nope")
    with pytest.raises(InvalidArgumentError, match="max_results=0"):
        kiln.search_runs(max_results=0)
    with pytest.raises(NotFoundError, match="'unknown-run'"):
        kiln.get_run("unknown-run")


def test_autolog_sklearn(ws: Workspace) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True, as_frame=True)
    kiln.autolog(registered_model_name="iris-clf", experiment="auto")
    try:
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, C=0.5)).fit(X, y)
    finally:
        kiln.autolog(disable=True)
    df = kiln.search_runs(experiment="auto")
    assert len(df) == 1  # the inner fits of the pipeline did not start runs of their own
    row = df.iloc[0]
    assert row["params.logisticregression.C"] == "0.5"
    assert row["metrics.training_accuracy"] > 0.9
    assert row["tags.kiln.autolog.estimator"].endswith("Pipeline")
    model = kiln.load_model("models:/iris-clf/1")
    assert list(model.predict(X.head(3))) == [0, 0, 0]
    assert not getattr(LogisticRegression.fit, "__kiln_autolog__", False)
