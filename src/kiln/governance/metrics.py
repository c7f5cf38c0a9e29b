"""Model quality and fairness figures computed with numpy/pandas (scikit-learn for AUC/log loss).

``METRICS`` is the table of metric names a policy may use; each says whether
higher is better, so relative checks know which way "worse" is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class MetricSpec:
    """A metric a policy can name: what it needs and which direction is better."""

    name: str
    higher_is_better: bool
    needs_scores: bool = False
    task: str = "classification"


METRICS: dict[str, MetricSpec] = {
    s.name: s
    for s in (
        MetricSpec("roc_auc", True, needs_scores=True),
        MetricSpec("accuracy", True),
        MetricSpec("f1", True),
        MetricSpec("precision", True),
        MetricSpec("recall", True),
        MetricSpec("log_loss", False, needs_scores=True),
        MetricSpec("rmse", False, task="regression"),
        MetricSpec("mae", False, task="regression"),
        MetricSpec("r2", True, task="regression"),
    )
}
FAIRNESS_METRICS = ("demographic_parity_difference", "equalized_odds_difference")


def metric_spec(name: str) -> MetricSpec:
    """The spec of ``name``, or one line listing the known metrics."""
    spec = METRICS.get(name)
    if spec is None:
        raise InvalidArgumentError(
            f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}"
        )
    return spec


def classification_metrics(y: np.ndarray, pred: np.ndarray, scores: np.ndarray | None
                           ) -> dict[str, float]:
    """accuracy, precision, recall, f1, and with scores roc_auc and log_loss (binary)."""
    import numpy as np

    y, pred = np.asarray(y), np.asarray(pred)
    out: dict[str, float] = {"accuracy": float(np.mean(y == pred))}
    classes = np.unique(np.concatenate([y, pred]))
    if len(classes) <= 2:
        positive = classes.max() if len(classes) else 1
        tp = float(np.sum((pred == positive) & (y == positive)))
        fp = float(np.sum((pred == positive) & (y != positive)))
        fn = float(np.sum((pred != positive) & (y == positive)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        out["precision"], out["recall"] = precision, recall
        out["f1"] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if scores is not None and len(np.unique(y)) == 2:
            from sklearn.metrics import log_loss, roc_auc_score

            out["roc_auc"] = float(roc_auc_score(y, scores))
            out["log_loss"] = float(log_loss(y, np.clip(scores, 1e-15, 1 - 1e-15)))
    return out


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """rmse, mae, r2."""
    import numpy as np

    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    err = pred - y
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot else 0.0,
    }


def fairness(y: np.ndarray, pred: np.ndarray, groups: Any) -> dict[str, Any]:
    """Demographic parity difference (spread of selection rates across groups) and
    equalized odds difference (the larger spread of true- and false-positive rates),
    as in fairlearn, for binary predictions; plus the per-group rates."""
    import numpy as np
    import pandas as pd

    y, pred = np.asarray(y), np.asarray(pred)
    positive = np.unique(np.concatenate([y, pred])).max()
    frame = pd.DataFrame({"y": y == positive, "p": pred == positive,
                          "g": np.asarray(groups).astype(str)})
    per_group: dict[str, dict[str, float]] = {}
    for g, part in frame.groupby("g"):
        pos, neg = part[part.y], part[~part.y]
        per_group[str(g)] = {
            "count": float(len(part)),
            "selection_rate": float(part.p.mean()),
            "tpr": float(pos.p.mean()) if len(pos) else float("nan"),
            "fpr": float(neg.p.mean()) if len(neg) else float("nan"),
        }

    def spread(key: str) -> float:
        values = [v[key] for v in per_group.values() if not np.isnan(v[key])]
        return float(max(values) - min(values)) if values else 0.0

    return {
        "demographic_parity_difference": spread("selection_rate"),
        "equalized_odds_difference": max(spread("tpr"), spread("fpr")),
        "groups": per_group,
    }
