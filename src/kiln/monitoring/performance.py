"""Model performance from delayed labels: classification and regression metrics.

Rows whose label is missing (not yet arrived) are left out; ``n_labelled`` says how many
rows are behind each figure. Implemented with numpy (same definitions as scikit-learn,
which the tests check) so monitoring does not import scikit-learn::

    >>> r = classification_metrics([0, 1, 1, None], [0, 1, 0, 1], y_score=[0.1, 0.9, 0.4, 0.8])
    >>> r.n_labelled, r.metrics["accuracy"], r.metrics["roc_auc"]
    (3, 0.6666666666666666, 1.0)
    >>> regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]).metrics["mae"]
    0.3333333333333333

Binary: precision, recall and F1 of the positive class (the larger label, or ``True``/1;
``positive=`` to choose); ROC AUC and log loss from ``y_score`` (the positive class's
probability, or one column per class). Multiclass: macro averages, one-vs-rest macro
ROC AUC and log loss from an ``(n, classes)`` score matrix whose columns follow the
sorted class labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring.profile import check_saved

if TYPE_CHECKING:
    import numpy as np

RESULT_TYPE = "kiln.monitoring.PerformanceResult"
RESULT_VERSION = 1


@dataclass(frozen=True)
class PerformanceResult:
    """``task`` is ``classification`` or ``regression``; ``metrics`` maps names to values
    (a metric that cannot be computed, e.g. ROC AUC with one class, is left out)."""

    task: str
    metrics: dict[str, float]
    n_labelled: int
    classes: list[Any] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.n_labelled == 0

    def to_dict(self) -> dict[str, Any]:
        return {"type": RESULT_TYPE, "version": RESULT_VERSION, "task": self.task,
                "metrics": self.metrics, "n_labelled": self.n_labelled, "classes": self.classes}

    @classmethod
    def from_dict(cls, data: Any) -> PerformanceResult:
        data = check_saved(data, RESULT_TYPE, RESULT_VERSION, "performance result")
        return cls(str(data["task"]), {k: float(v) for k, v in data["metrics"].items()},
                   int(data["n_labelled"]), list(data.get("classes", [])))


def classification_metrics(y_true: Any, y_pred: Any, y_score: Any = None, *,
                           positive: Any = None) -> PerformanceResult:
    """Accuracy, precision, recall, F1, ROC AUC and log loss (see the module docstring)."""
    import numpy as np

    yt, yp, labelled = _align(y_true, y_pred, "classification_metrics")
    score = None
    if y_score is not None:
        score = np.asarray(y_score, dtype=np.float64)
        if score.shape[0] != labelled.size:
            raise InvalidArgumentError(
                f"y_score has {score.shape[0]} rows but y_true has {labelled.size}")
        score = score[labelled]
    for name, arr in (("y_true", yt), ("y_pred", yp)):
        if arr.dtype.kind == "f" and arr.size and not np.all(np.mod(arr, 1) == 0):
            raise InvalidArgumentError(
                f"{name} holds fractional numbers such as {arr[np.mod(arr, 1) != 0][0]!r}; "
                "classification needs class labels (use regression_metrics for numbers)")
    if yt.size and yp.size and _family(yt) != _family(yp):
        raise InvalidArgumentError(
            f"labels are {_family(yt)} ({yt[0]!r}) but predictions are {_family(yp)} "
            f"({yp[0]!r}); they must be of one type")
    classes = sorted(set(yt.tolist()) | set(yp.tolist()), key=lambda v: (str(type(v)), v))
    n = int(yt.size)
    if not n:
        return PerformanceResult("classification", {}, 0, classes)
    metrics: dict[str, float] = {"accuracy": float(np.mean(yt == yp))}
    if len(classes) <= 2:
        pos = positive if positive is not None else classes[-1]
        tp = float(np.sum((yp == pos) & (yt == pos)))
        metrics["precision"] = _div(tp, float(np.sum(yp == pos)))
        metrics["recall"] = _div(tp, float(np.sum(yt == pos)))
        metrics["f1"] = _f1(metrics["precision"], metrics["recall"])
        if score is not None:
            p = score[:, -1] if score.ndim == 2 else score
            truth = (yt == pos).astype(np.float64)
            auc = _auc(truth, p)
            if auc is not None:
                metrics["roc_auc"] = auc
            metrics["log_loss"] = _log_loss(np.column_stack([1 - truth, truth]),
                                            np.column_stack([1 - p, p]))
    else:
        precision, recall, f1 = [], [], []
        for c in classes:
            tp = float(np.sum((yp == c) & (yt == c)))
            precision.append(_div(tp, float(np.sum(yp == c))))
            recall.append(_div(tp, float(np.sum(yt == c))))
            f1.append(_f1(precision[-1], recall[-1]))
        metrics |= {"precision": float(np.mean(precision)), "recall": float(np.mean(recall)),
                    "f1": float(np.mean(f1))}
        if score is not None:
            if score.ndim != 2 or score.shape[1] != len(classes):
                raise InvalidArgumentError(
                    f"y_score must have one column per class ({len(classes)}: "
                    f"{', '.join(map(str, classes))}), got shape {score.shape}")
            onehot = np.column_stack([(yt == c).astype(np.float64) for c in classes])
            aucs = [_auc(onehot[:, i], score[:, i]) for i in range(len(classes))]
            if all(a is not None for a in aucs):
                metrics["roc_auc"] = float(np.mean([a for a in aucs if a is not None]))
            metrics["log_loss"] = _log_loss(onehot, score)
    return PerformanceResult("classification", metrics, n, [_plain(c) for c in classes])


def regression_metrics(y_true: Any, y_pred: Any) -> PerformanceResult:
    """MAE, RMSE, R² and mean error (prediction minus label) of the labelled rows."""
    import numpy as np

    yt, yp, _ = _align(y_true, y_pred, "regression_metrics")
    for name, arr in (("y_true", yt), ("y_pred", yp)):
        if arr.dtype.kind not in "biuf":
            bad = next((v for v in arr.tolist() if not isinstance(v, int | float)), arr[0])
            raise InvalidArgumentError(
                f"{name} must be numbers for regression metrics; got {bad!r}")
    yt, yp = yt.astype(np.float64), yp.astype(np.float64)
    n = int(yt.size)
    if not n:
        return PerformanceResult("regression", {}, 0)
    err = yp - yt
    metrics = {"mae": float(np.mean(np.abs(err))), "rmse": float(math.sqrt(np.mean(err**2))),
               "mean_error": float(np.mean(err))}
    ss_tot = float(np.sum((yt - yt.mean()) ** 2))
    if ss_tot > 0:
        metrics["r2"] = 1.0 - float(np.sum(err**2)) / ss_tot
    return PerformanceResult("regression", metrics, n)


def _align(y_true: Any, y_pred: Any, fn: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and predictions of the rows that have a label (and a prediction)."""
    import numpy as np
    import pandas as pd

    yt = pd.Series(np.asarray(y_true, dtype=object) if not hasattr(y_true, "dtype")
                   else y_true).reset_index(drop=True)
    yp = pd.Series(np.asarray(y_pred, dtype=object) if not hasattr(y_pred, "dtype")
                   else y_pred).reset_index(drop=True)
    if len(yt) != len(yp):
        raise InvalidArgumentError(
            f"{fn}: y_true has {len(yt)} rows but y_pred has {len(yp)}")
    labelled = (yt.notna() & yp.notna()).to_numpy()
    return _values(yt[labelled]), _values(yp[labelled]), labelled


def _values(s: Any) -> np.ndarray:
    """A plain numpy array of Python-comparable values (numbers stay numeric)."""
    import numpy as np
    import pandas as pd

    inferred = pd.api.types.infer_dtype(s, skipna=True)
    dtype: Any = object
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        dtype = np.float64
    elif inferred == "boolean":
        dtype = bool
    arr: np.ndarray = s.to_numpy(dtype=dtype)
    return arr


def _family(arr: np.ndarray) -> str:
    if arr.dtype.kind in "biuf":
        return "numbers"
    return "strings" if isinstance(arr[0], str) else type(arr[0]).__name__


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _auc(truth: np.ndarray, score: np.ndarray) -> float | None:
    """ROC AUC as the Mann-Whitney statistic (ties count one half)."""
    from scipy.stats import rankdata

    n_pos = float(truth.sum())
    n_neg = float(truth.size - n_pos)
    if not n_pos or not n_neg:
        return None
    ranks = rankdata(score)
    return float((ranks[truth == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _log_loss(onehot: np.ndarray, score: np.ndarray) -> float:
    import numpy as np

    p = np.clip(score, np.finfo(np.float64).eps, 1 - np.finfo(np.float64).eps)
    p = p / p.sum(axis=1, keepdims=True)
    return float(-np.mean(np.sum(onehot * np.log(p), axis=1)))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return int(value) if isinstance(value, float) and value.is_integer() else value
