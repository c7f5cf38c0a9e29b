"""``kiln.evaluate``: quality, per-slice figures, fairness and permutation importance of a
model version on a dataset, stored with the version so gates and model cards can read them.

An evaluation is stored as a tracked run in the experiment ``kiln-evaluations``
(tags ``kiln.model``, ``kiln.version``, ``kiln.dataset``; the figures as metrics;
everything as ``evaluation.json``; the importances as ``feature_importance.json``),
linked to the version by a lineage edge ``model_version -> run (evaluated_by)``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError
from kiln.governance.datasets import describe_source, load_frame
from kiln.governance.metrics import classification_metrics, fairness, regression_metrics

if TYPE_CHECKING:
    import pandas as pd

    from kiln.entities import ModelVersion
    from kiln.registry.model import LoadedModel
    from kiln.workspace import Workspace

log = logging.getLogger("kiln.governance")
EXPERIMENT = "kiln-evaluations"
EVALUATION_FILE = "evaluation.json"
IMPORTANCE_FILE = "feature_importance.json"


@dataclass(frozen=True)
class Evaluation:
    """What ``kiln.evaluate`` measured for one model version on one dataset."""

    model: str
    version: int
    dataset: str
    source: str
    task: str
    rows: int
    metrics: dict[str, float]
    slices: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    fairness: dict[str, dict[str, Any]] = field(default_factory=dict)
    importance: dict[str, float] = field(default_factory=dict)
    run_id: str | None = None
    created_at: int = 0
    importance_method: str = "permutation"  # or "shap" (mean |SHAP value|)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """The inverse of :meth:`to_dict`."""
        return cls(**data)


def resolve_version(ws: Workspace, model: ModelVersion | str) -> ModelVersion:
    """A version from a :class:`ModelVersion` or a ``models:/`` URI."""
    from kiln.entities import ModelVersion

    if isinstance(model, ModelVersion):
        return model
    if isinstance(model, str):
        return ws.get_model_version_by_uri(model)
    raise InvalidArgumentError(f"model {model!r} is not accepted; give a ModelVersion or a "
                               "models:/NAME/VERSION URI")


def evaluate(
    ws: Workspace,
    model: ModelVersion | str,
    data: Any,
    *,
    label: str,
    sensitive: Sequence[str] = (),
    dataset: str = "default",
    importance: bool = True,
    store: bool = True,
    base: Any = None,
) -> Evaluation:
    """Evaluate ``model`` (a version or ``models:/`` URI) on ``data`` (DataFrame, CSV/Parquet
    path or callable), per slice of each ``sensitive`` attribute, and store the result."""
    from kiln._time import now_ms

    mv = resolve_version(ws, model)
    frame = load_frame(data, base)
    where = f"evaluation data {dataset!r}"
    if label not in frame.columns:
        raise InvalidArgumentError(f"label column {label!r} is not in {where}; columns: "
                                   f"{_columns(frame)}")
    for attr in sensitive:
        if attr not in frame.columns:
            raise InvalidArgumentError(f"sensitive attribute {attr!r} is not a column of {where}; "
                                       f"columns: {_columns(frame)}")
    loaded = ws.load_model(f"models:/{mv.name}/{mv.version}")
    features = _features(frame, loaded, label, sensitive)
    y = frame[label].to_numpy()
    task = _task(loaded, y)
    pred, scores = _predict(loaded, features, task)
    metrics = _score(task, y, pred, scores)
    slices: dict[str, dict[str, dict[str, float]]] = {}
    fair: dict[str, dict[str, Any]] = {}
    for attr in sensitive:
        groups = frame[attr].astype(str).to_numpy()
        slices[attr] = {}
        for value in sorted(set(groups)):
            mask = groups == value
            s = scores[mask] if scores is not None else None
            slices[attr][value] = {**_score(task, y[mask], pred[mask], s),
                                   "count": float(mask.sum())}
        if task == "classification":
            fair[attr] = fairness(y, pred, groups)
    imp, method = _importance(loaded, features, y, task) if importance else ({}, "")
    result = Evaluation(mv.name, mv.version, dataset, describe_source(data), task, len(frame),
                        metrics, slices, fair, imp, None, now_ms(), method or "permutation")
    if store:
        result = _store(ws, mv, result)
    return result


def stored_evaluations(ws: Workspace, name: str, version: int) -> list[Evaluation]:
    """Every stored evaluation of ``name`` version ``version``, newest first."""
    from kiln.exceptions import NotFoundError

    try:
        runs = ws.search_run_objects(
            EXPERIMENT,
            filter=f"tags.`kiln.model` = '{_q(name)}' and tags.`kiln.version` = '{version}'",
            order_by=["start_time DESC"],
        )
    except NotFoundError:
        return []
    out = []
    for run in runs:
        arts = {a.path: a for a in ws.list_artifacts(run.run_id)}
        art = arts.get(EVALUATION_FILE)
        if art is not None:
            out.append(Evaluation.from_dict(json.loads(ws.artifacts.get_bytes(art.sha256))))
    return out


def _store(ws: Workspace, mv: ModelVersion, result: Evaluation) -> Evaluation:
    from kiln.entities import LineageEdge

    run = ws.create_run(EXPERIMENT, name=f"{mv.name}-v{mv.version}-{result.dataset}",
                        tags={"kiln.model": mv.name, "kiln.version": str(mv.version),
                              "kiln.dataset": result.dataset, "kiln.source": result.source})
    result = Evaluation(**{**result.to_dict(), "run_id": run.run_id})
    flat = dict(result.metrics)
    for attr, figures in result.fairness.items():
        for key in ("demographic_parity_difference", "equalized_odds_difference"):
            flat[f"fairness.{_key(attr)}.{key}"] = figures[key]
    for attr, values in result.slices.items():
        for value, figures in values.items():
            for key, number in figures.items():
                flat[f"slice.{_key(attr)}:{_key(value)}.{key}"] = number
    ws.log_batch(run.run_id, metrics=flat, params={"rows": result.rows, "task": result.task})
    ws.log_text(run.run_id, json.dumps(result.to_dict(), indent=2, default=float),
                EVALUATION_FILE)
    if result.importance:
        ws.log_text(run.run_id, json.dumps(result.importance, indent=2), IMPORTANCE_FILE)
    ws.end_run(run.run_id)
    ws.store.add_edges([LineageEdge("model_version", f"{mv.name}/{mv.version}", "run",
                                    run.run_id, "evaluated_by", result.created_at)])
    return result


def _features(frame: pd.DataFrame, loaded: LoadedModel, label: str, sensitive: Sequence[str]
              ) -> pd.DataFrame:
    sig = loaded.signature
    if sig is not None and sig.input_columns:
        missing = [c for c in sig.input_columns if c not in frame.columns]
        if missing:
            raise InvalidArgumentError(
                f"evaluation data lacks the model's input columns {missing[:5]}; the model "
                f"takes {sig.input_columns[:10]}"
            )
        return frame[sig.input_columns]
    return frame.drop(columns=[label, *[s for s in sensitive if s != label]])


def _task(loaded: LoadedModel, y: Any) -> str:
    import numpy as np

    if hasattr(loaded.raw, "predict_proba"):
        return "classification"
    if np.issubdtype(np.asarray(y).dtype, np.floating) and len(np.unique(y)) > 20:
        return "regression"
    return "classification"


def _predict(loaded: LoadedModel, features: pd.DataFrame, task: str) -> tuple[Any, Any]:
    import numpy as np

    pred = np.asarray(loaded.predict(features))
    scores = None
    if task == "classification" and hasattr(loaded.raw, "predict_proba"):
        proba = np.asarray(loaded.predict_proba(features))
        if proba.ndim == 2 and proba.shape[1] == 2:
            scores = proba[:, 1]
    return pred, scores


def _score(task: str, y: Any, pred: Any, scores: Any) -> dict[str, float]:
    if task == "regression":
        return regression_metrics(y, pred)
    return classification_metrics(y, pred, scores)


def _importance(loaded: LoadedModel, features: pd.DataFrame, y: Any, task: str
                ) -> tuple[dict[str, float], str]:
    """Global importance of each input column and how it was computed: the mean absolute
    SHAP value when ``shap`` is installed (``pip install 'kiln[explain]'``) and can explain
    the model, scikit-learn's permutation importance otherwise."""
    try:
        import shap  # noqa: F401
    except ImportError:
        return _permutation(loaded, features, y, task), "permutation"
    try:
        return _shap(loaded, features, task), "shap"
    except Exception as exc:  # a model shap cannot explain: say so and fall back
        log.info("SHAP failed for %s (%s: %s); using permutation importance",
                 type(loaded.raw).__name__, type(exc).__name__, exc)
        return _permutation(loaded, features, y, task), "permutation"


def _shap(loaded: LoadedModel, features: pd.DataFrame, task: str) -> dict[str, float]:
    """Mean |SHAP value| per column over up to 200 rows, against 100 background rows.

    Linear and tree models get shap's exact explainers; so does the last step of a
    scikit-learn pipeline whose earlier steps keep one column per input (scalers,
    imputers), explained on the transformed columns. Other models get the permutation
    explainer on their score (probability of the positive class, or the prediction),
    on fewer rows since it calls the model many times."""
    import numpy as np
    import pandas as pd
    import shap

    model, background, sample = _explainable(loaded.raw, features)
    try:
        explanation = shap.Explainer(model, background)(sample)
    except Exception:  # not a model type shap knows: explain the scoring function
        raw = loaded.raw
        proba = task == "classification" and hasattr(raw, "predict_proba")

        def score(X: Any) -> Any:
            frame = X if hasattr(X, "columns") else pd.DataFrame(X, columns=features.columns)
            return raw.predict_proba(frame)[:, -1] if proba else raw.predict(frame)

        small = features.sample(min(50, len(features)), random_state=0)
        rows = features.sample(min(100, len(features)), random_state=1)
        # one permutation per row (2 * columns + 1 calls) keeps it to seconds
        explanation = shap.Explainer(score, small, algorithm="permutation")(
            rows, max_evals=2 * features.shape[1] + 1, silent=True)
    values = np.asarray(explanation.values, dtype=float)
    if values.ndim == 3:  # one column per class: the positive (last) class
        values = values[..., -1]
    means = np.abs(values).mean(axis=0)
    ranked = sorted(zip(features.columns, means, strict=True), key=lambda kv: -kv[1])
    return {str(k): float(v) for k, v in ranked}


def _explainable(raw: Any, features: pd.DataFrame) -> tuple[Any, Any, Any]:
    """The model shap should explain, with background and sample rows in its input space."""
    import pandas as pd

    background = features.sample(min(100, len(features)), random_state=0)
    sample = features.sample(min(200, len(features)), random_state=1)
    steps = getattr(raw, "steps", None)
    if isinstance(steps, list) and len(steps) > 1:
        try:
            head = raw[:-1]
            tb, ts = head.transform(background), head.transform(sample)
        except Exception:
            return raw, background, sample
        if getattr(tb, "shape", (0, 0))[1] == features.shape[1]:
            return (raw[-1], pd.DataFrame(tb, columns=features.columns),
                    pd.DataFrame(ts, columns=features.columns))
    return raw, background, sample


def _permutation(loaded: LoadedModel, features: pd.DataFrame, y: Any, task: str
                 ) -> dict[str, float]:
    """scikit-learn's permutation importance of each input column on the main score."""
    from sklearn.inspection import permutation_importance

    def scorer(_estimator: Any, X: Any, y_true: Any) -> float:
        pred, scores = _predict(loaded, X, task)
        figures = _score(task, y_true, pred, scores)
        if task == "regression":
            return -figures["rmse"]
        return figures.get("roc_auc", figures["accuracy"])

    result = permutation_importance(loaded.raw, features, y, scoring=scorer, n_repeats=5,
                                    random_state=0)
    means = result["importances_mean"]
    ranked = sorted(zip(features.columns, means, strict=True), key=lambda kv: -kv[1])
    return {str(k): float(v) for k, v in ranked}


def _columns(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    return ", ".join(cols[:12]) + (f" ... ({len(cols)} in all)" if len(cols) > 12 else "")


def _key(value: str) -> str:
    return re.sub(r"[^\w\-. /:]", "_", str(value))[:60] or "_"


def _q(value: str) -> str:
    return value.replace("'", "''")
