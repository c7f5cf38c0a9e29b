"""Lineage of pipeline runs: dataset references in, registered model versions out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression

import kiln
from kiln.pipelines import pipeline, step
from kiln.workspace import Workspace


@step
def load(dataset: str) -> pd.DataFrame:
    return kiln.get_workspace().dataset_frame(dataset)


@step
def fit(df: pd.DataFrame, C: float = 1.0) -> int:
    model = LogisticRegression(C=C).fit(df[["x"]], df["y"])
    mv = kiln.log_model(model, "churn-clf")
    assert mv is not None
    return mv.version


@pipeline
def churn(dataset: str = "churn@latest", C: float = 1.0) -> None:
    fit(load(dataset), C=C)


def _add_version(ws: Workspace, folder: Path, n: int) -> str:
    path = folder / "churn.csv"
    pd.DataFrame({"x": list(range(n)), "y": [i % 2 for i in range(n)]}).to_csv(path,
                                                                            index=False)
    return ws.add_dataset(path, "churn", pointer=False).ref


def _inputs(ws: Workspace, run_id: str) -> list[str]:
    return sorted(e.src_id for e in ws.store.edges_to("run", run_id)
                  if e.src_kind == "dataset_version")


def _outputs(ws: Workspace, run_id: str) -> list[str]:
    return sorted(e.dst_id for e in ws.store.edges_from("run", run_id)
                  if e.dst_kind == "model_version")


def test_a_dataset_parameter_is_an_input_and_a_registered_model_an_output(
    ws: Workspace, tmp_path: Path
) -> None:
    _add_version(ws, tmp_path, 10)
    v2 = _add_version(ws, tmp_path, 12)
    first = churn.run(workspace=ws).raise_for_status()
    assert v2 == "churn@2" and first.datasets == {"dataset": "churn@2"}
    assert _inputs(ws, first.run_id) == ["churn@2"]  # no special load step needed
    assert _inputs(ws, first.steps["load"].run_id or "") == ["churn@2"]
    assert ws.get_run(first.run_id).params["dataset"] == "churn@latest"
    assert first.produced == [("model_version", "churn-clf/1")]
    assert _outputs(ws, first.run_id) == ["churn-clf/1"]
    assert _outputs(ws, first.steps["fit"].run_id or "") == ["churn-clf/1"]

    again = churn.run(workspace=ws).raise_for_status()
    assert again.cached_steps == ["load", "fit"] and again.produced == []

    _add_version(ws, tmp_path, 14)  # a new version: @latest moves, the steps re-run
    third = churn.run(workspace=ws).raise_for_status()
    assert third.executed_steps == ["load", "fit"]
    assert _inputs(ws, third.run_id) == ["churn@3"]
    assert _outputs(ws, third.run_id) == ["churn-clf/2"]

    pinned = churn.run(workspace=ws, dataset="churn@1").raise_for_status()
    assert _inputs(ws, pinned.run_id) == ["churn@1"] and pinned.output("fit") == 3


def test_strings_that_are_not_dataset_references_stay_parameters(ws: Workspace) -> None:
    @step
    def echo(text: str) -> str:
        return text

    @pipeline
    def mail(address: str = "someone@example.org", missing: str = "nothing@latest") -> None:
        echo(address)
        echo(missing)

    result = mail.run(workspace=ws).raise_for_status()
    assert result.datasets == {} and _inputs(ws, result.run_id) == []
    assert result.output("echo") == "someone@example.org"
    assert result.output("echo_2") == "nothing@latest"


def test_a_timed_step_that_registers_a_model_reports_it(ws: Workspace, tmp_path: Path) -> None:
    timed_fit = step(timeout="1m", name="timed_fit")(fit.fn)

    @pipeline
    def timed(dataset: str = "churn@latest") -> None:
        timed_fit(load(dataset))

    _add_version(ws, tmp_path, 10)
    result = timed.run(workspace=ws).raise_for_status()
    assert result.produced == [("model_version", "churn-clf/1")]
    assert _outputs(ws, result.run_id) == ["churn-clf/1"]
