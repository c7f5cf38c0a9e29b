"""The data-validation gate: the training data's stored validation reports, found by lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

import kiln
from kiln.cli.main import cli
from kiln.exceptions import ConfigError
from kiln.governance.policy import Policy
from kiln.pipelines import pipeline, step
from kiln.workspace import Workspace

from .helpers import frame

POLICY = {"model": "churn-clf", "checks": [{"type": "data_validation"}]}


def _dataset(ws: Workspace, folder: Path, df: pd.DataFrame) -> str:
    path = folder / "churn.csv"
    df.to_csv(path, index=False)
    return ws.add_dataset(path, "churn", pointer=False).ref


def _train(ws: Workspace, ref: str | None) -> Any:
    run = ws.create_run("train")
    data = ws.dataset_frame(ref) if ref else frame()
    if ref:
        ws.log_input(run.run_id, ref)
    model = LogisticRegression().fit(data[["x1", "x2", "x3"]], data["label"])
    mv = ws.log_model(run.run_id, model, "churn-clf")
    ws.end_run(run.run_id)
    return mv


def _checks(ws: Workspace, version: int) -> list[tuple[str, str, bool]]:
    result = ws.check_gates("churn-clf", version, policy=Policy.from_dict(POLICY))
    return [(c.check, c.figure, c.passed) for c in result.checks]


@step
def fit_step(dataset: str) -> int:
    data = kiln.get_workspace().dataset_frame(dataset)
    model = LogisticRegression().fit(data[["x1", "x2", "x3"]], data["label"])
    mv = kiln.log_model(model, "churn-clf")
    assert mv is not None
    return mv.version


@pipeline
def training(dataset: str = "churn@latest") -> None:
    fit_step(dataset)


def test_the_gate_reads_the_training_datas_validation(ws: Workspace, tmp_path: Path) -> None:
    clean = _dataset(ws, tmp_path, frame(seed=1))
    broken = frame(seed=2)
    broken.loc[:40, "x1"] = 1e6  # 10% of the rows far out of range: an error
    bad = _dataset(ws, tmp_path, broken)

    on_clean, on_bad, unknown = _train(ws, clean), _train(ws, bad), _train(ws, None)
    assert _checks(ws, on_clean.version) == [(f"data validation of {clean}", "none run", False)]
    assert _checks(ws, unknown.version) == [
        ("data validation of training data", "no training dataset recorded in lineage", False)]

    assert kiln.data.validate(clean, reference=clean).ok
    report = kiln.data.validate(bad, reference=clean)
    assert not report.ok
    assert _checks(ws, on_clean.version) == [
        (f"data validation of {clean} against {clean}", "0 errors, 0 warnings", True)]
    (check, figure, passed), = _checks(ws, on_bad.version)
    assert check == f"data validation of {bad} against {clean}" and not passed
    assert figure.startswith(f"{len(report.errors)} errors")

    promoted = ws.promote("churn-clf", on_bad.version, policy=Policy.from_dict(POLICY))
    assert not promoted.moved
    assert ws.promote("churn-clf", on_clean.version, policy=Policy.from_dict(POLICY)).moved


def test_a_pipeline_trained_model_is_checked_through_its_pipeline_run(
    ws: Workspace, tmp_path: Path
) -> None:
    ref = _dataset(ws, tmp_path, frame(seed=1))
    version = training.run(workspace=ws).raise_for_status().output("fit_step")
    assert _checks(ws, version)[0][:2] == (f"data validation of {ref}", "none run")
    kiln.data.validate(ref, reference=ref)
    assert _checks(ws, version)[0][2]


def test_promote_prints_the_gate(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "churn-clf.yaml").write_text(
        "model: churn-clf\nchecks:\n  - {type: data_validation, max_warnings: 5}\n")
    runner = CliRunner()
    with Workspace(home=tmp_path / ".kiln") as ws, kiln.use_workspace(ws):
        ref = _dataset(ws, tmp_path, frame(seed=1))
        mv = _train(ws, ref)
        args = ["models", "promote", "churn-clf", str(mv.version), "--policy",
                str(tmp_path / "policies" / "churn-clf.yaml")]
        out = runner.invoke(cli, args, env={"COLUMNS": "200"})
        assert out.exit_code == 1
        assert f"data validation of {ref}" in out.output and "none run" in out.output
        out = runner.invoke(cli, ["data", "validate", ref, "--against", ref, "--no-html"])
        assert out.exit_code == 0, out.output
        out = runner.invoke(cli, args, env={"COLUMNS": "200"})
        assert out.exit_code == 0, out.output
        assert "0 errors, 0 warnings" in out.output and "<= 5 warnings" in out.output
        assert f"churn-clf@production -> version {mv.version}" in out.output


@pytest.mark.parametrize(("check", "message"), [
    ({"type": "data_validation", "max_warnings": "few"}, "max_warnings = 'few' is not accepted"),
    ({"type": "data_validation", "strict": True}, "unknown key 'strict'"),
])
def test_bad_gate_entries_are_one_line(check: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Policy.from_dict({"model": "churn-clf", "checks": [check]})
