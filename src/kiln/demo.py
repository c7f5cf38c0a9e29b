"""The lifecycle demo behind ``kiln demo``, on scikit-learn's breast cancer data (no network).

Later stages (data versions, features, serving, monitoring) add their steps
here as they land; the training sweep runs as a pipeline (``kiln.pipelines.demo``).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from kiln.data.demo import DataStageResult
    from kiln.entities import ModelVersion
    from kiln.workspace import Workspace

EXPERIMENT = "breast-cancer"
MODEL_NAME = "breast-cancer-clf"
SWEEP: list[dict[str, Any]] = [
    {"C": c, "class_weight": cw} for c in (0.01, 0.1, 1.0, 10.0) for cw in ("none", "balanced")
]


@dataclass
class DemoResult:
    """What the demo made, for the summary and for tests."""

    run_ids: list[str] = field(default_factory=list)
    best_run_id: str = ""
    best_auc: float = 0.0
    model_version: ModelVersion | None = None
    predictions: list[int] = field(default_factory=list)
    truth: list[int] = field(default_factory=list)
    load_seconds: float = 0.0
    data: DataStageResult | None = None
    serving: Any = None
    governance: Any = None
    monitoring: Any = None
    flavors: Any = None


def run_demo(ws: Workspace, console: Console) -> DemoResult:
    """Sweep, track, register the best model, promote it, load it back and predict."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    import kiln
    from kiln.data.demo import version_and_validate
    from kiln.features.demo import demo_stage

    data = load_breast_cancer(as_frame=True)
    result = DemoResult()
    result.data = version_and_validate(ws, console, data.frame)
    X, y = demo_stage(ws, console, data.data, data.target)  # training set from a feature view
    # The training set built from the feature view becomes a dataset version of its own,
    # which the training pipeline loads (and records as its input).
    training = _version_training_set(ws, X, y)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    console.print(
        f"[bold]1. Data[/]: scikit-learn's breast cancer set, {len(X)} rows x {X.shape[1]} "
        f"features (train {len(X_train)}, test {len(X_test)})"
    )
    from kiln.pipelines.demo import train_sweep

    with kiln.use_workspace(ws):
        result.run_ids = train_sweep(ws, console, dataset=training)
    console.print(f"[bold]3. Sweep[/]: {len(SWEEP)} tracked runs in experiment {EXPERIMENT!r}")

    best = ws.search_run_objects(EXPERIMENT, filter=f"run_id IN ({_quoted(result.run_ids)})",
                                 order_by=["metrics.auc DESC", "metrics.log_loss ASC"],
                                 max_results=1)[0]
    result.best_run_id, result.best_auc = best.run_id, best.metrics["auc"]
    mv = ws.register_model(f"runs:/{best.run_id}/model", MODEL_NAME,
                           description=f"best of the sweep: C={best.params['C']}, "
                                       f"class_weight={best.params['class_weight']}")
    result.model_version = mv
    console.print(
        f"[bold]4. Registry[/]: best run {best.name} (auc {best.metrics['auc']:.4f}) "
        f"registered as {MODEL_NAME} version {mv.version}"
    )
    from kiln.governance.demo import governance_stage

    result.governance = governance_stage(ws, console, mv, X_train, X_test, y_train, y_test)

    start = time.perf_counter()
    model = ws.load_model(f"models:/{MODEL_NAME}@production")
    result.load_seconds = time.perf_counter() - start
    sample = X_test.head(8)
    result.predictions = [int(p) for p in model.predict(sample)]
    result.truth = [int(t) for t in y_test.head(8)]
    console.print(
        f"[bold]6. Serving check[/]: loaded models:/{MODEL_NAME}@production in "
        f"{result.load_seconds * 1000:.0f} ms (hash verified); predictions "
        f"{result.predictions} vs truth {result.truth}"
    )
    from kiln.serving.demo import run_serving_demo

    result.serving = run_serving_demo(ws, console, MODEL_NAME, EXPERIMENT, X_test, y_test)
    from kiln.registry.demo_flavors import flavors_stage

    result.flavors = flavors_stage(ws, console, X_train, X_test, y_train, y_test)
    from kiln.monitoring.demo import loop_stage

    result.monitoring = loop_stage(ws, console, result.best_run_id, X, y)
    return result


def _train_one(params: dict[str, Any], X_train: Any, X_test: Any, y_train: Any, y_test: Any,
               inputs: tuple[str, ...] = ()) -> str:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, roc_auc_score
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import kiln

    name = f"lr-C{params['C']}-{params['class_weight']}"
    with kiln.start_run(experiment=EXPERIMENT, name=name, tags={"stage": "sweep"}) as run:
        kiln.log_params({**params, "model": "LogisticRegression", "scaler": "standard"})
        for ref in inputs:  # the data versions the sweep trains on (lineage)
            kiln.log_input(ref)
        cw = None if params["class_weight"] == "none" else params["class_weight"]
        model = make_pipeline(
            StandardScaler(), LogisticRegression(C=params["C"], class_weight=cw, max_iter=5000)
        )
        for fold, score in enumerate(cross_val_score(model, X_train, y_train, cv=5,
                                                     scoring="roc_auc")):
            kiln.log_metric("cv_auc", float(score), step=fold)
        model.fit(X_train, y_train)
        proba = model.predict_proba(X_test)[:, 1]
        pred = model.predict(X_test)
        kiln.log_metrics({
            "auc": float(roc_auc_score(y_test, proba)),
            "accuracy": float(accuracy_score(y_test, pred)),
            "f1": float(f1_score(y_test, pred)),
            "log_loss": float(log_loss(y_test, proba)),
        })
        kiln.log_text(_report(name, confusion_matrix(y_test, pred)), "report.html")
        kiln.log_model(model, input_example=X_train.head(5))
        return run.run_id


def _version_training_set(ws: Workspace, X: Any, y: Any) -> str:
    """Store the feature view's training set as a dataset version; return its reference."""
    folder = ws.settings.home / "demo-data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "training_set.parquet"
    X.assign(target=y.to_numpy()).to_parquet(path, index=False)
    version = ws.add_dataset(path, "breast-cancer-training",
                             description="training set built from the feature view")
    return version.ref


def _report(name: str, matrix: Any) -> str:
    cells = "".join(
        f"<tr><th>true {i}</th>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
        for i, row in enumerate(matrix.tolist())
    )
    return (
        f"<!doctype html><title>{html.escape(name)}</title><h1>{html.escape(name)}</h1>"
        f"<table border=1><tr><th></th><th>pred 0</th><th>pred 1</th></tr>{cells}</table>"
    )


def _quoted(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)
