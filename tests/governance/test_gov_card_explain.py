"""Explainability (SHAP when installed, permutation importance otherwise) and the model
card's training data, per-slice results and importance plot."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import kiln
from kiln.governance.card import write_card
from kiln.workspace import Workspace

from .helpers import frame

COLUMNS = ["x1", "x2", "x3"]


def _train(ws: Workspace, tmp_path: Path, model: Any) -> Any:
    data = frame(seed=3)
    data.to_csv(tmp_path / "train.csv", index=False)
    dv = ws.add_dataset(tmp_path / "train.csv", "churn-train", pointer=False)
    run = ws.create_run("train", tags={"intended_use": "Flag customers likely to churn."})
    ws.log_input(run.run_id, dv)
    model.fit(data[COLUMNS], data["label"])
    mv = ws.log_model(run.run_id, model, "churn-clf", input_example=data[COLUMNS].head(5))
    ws.end_run(run.run_id)
    return mv, dv


@pytest.mark.parametrize("model", [
    LogisticRegression(),
    RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0),
    make_pipeline(StandardScaler(), LogisticRegression()),  # its last step is explained
    # no exact explainer: shap's permutation explainer (numba compiles it on first use)
    pytest.param(GaussianNB(), marks=pytest.mark.slow),
], ids=["linear", "forest", "pipeline", "naive-bayes"])
def test_shap_values_when_shap_is_installed(ws: Workspace, tmp_path: Path, model: Any) -> None:
    pytest.importorskip("shap")  # the test extra installs it (kiln[explain])
    mv, _ = _train(ws, tmp_path, model)
    ev = ws.evaluate(mv, frame(seed=4), label="label", sensitive=["gender"])
    assert ev.importance_method == "shap"
    assert list(ev.importance)[:2] in (["x1", "x2"], ["x2", "x1"])  # x3 barely matters
    assert ev.importance["x3"] < ev.importance["x1"] / 3
    assert all(v >= 0 for v in ev.importance.values())  # mean |SHAP|


def test_permutation_importance_without_shap(ws: Workspace, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)  # as if it were not installed
    mv, _ = _train(ws, tmp_path, LogisticRegression())
    ev = ws.evaluate(mv, frame(seed=4), label="label")
    assert ev.importance_method == "permutation"
    assert next(iter(ev.importance)) in ("x1", "x2")


def test_the_card_shows_training_data_slices_and_the_importance_plot(
    ws: Workspace, tmp_path: Path
) -> None:
    mv, dv = _train(ws, tmp_path, LogisticRegression())
    kiln.data.validate(dv.ref, reference=dv.ref)
    ws.evaluate(mv, frame(seed=4), label="label", sensitive=["gender"], dataset="holdout")
    md_path, html_path = write_card(ws, "churn-clf", mv.version, tmp_path / "cards")
    md, page = md_path.read_text(), html_path.read_text()
    assert "## Training data versions" in md
    row = next(line for line in md.splitlines() if line.startswith("| churn-train@1 |"))
    assert "| 400 | 5 |" in row and "x1: float" in row and "passed: 0 errors" in row
    assert "## Results per slice" in md and "| holdout | gender | F |" in md
    method = "Mean absolute SHAP value" if "shap" in sys.modules else "Permutation importance"
    assert method in md
    assert "<svg" in page and 'aria-label="feature importance"' in page
    assert "Flag customers likely to churn." in md


def test_a_card_says_when_the_training_data_is_unknown(ws: Workspace, tmp_path: Path) -> None:
    run = ws.create_run("train")
    data = frame()
    mv = ws.log_model(run.run_id, LogisticRegression().fit(data[COLUMNS], data["label"]),
                      "churn-clf")
    ws.end_run(run.run_id)
    md, _ = write_card(ws, "churn-clf", mv.version, tmp_path)
    assert "the training data is unknown" in md.read_text()
