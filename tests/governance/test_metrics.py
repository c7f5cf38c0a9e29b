"""Quality and fairness figures against scikit-learn and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from kiln.exceptions import InvalidArgumentError
from kiln.governance.metrics import classification_metrics, fairness, metric_spec


def test_classification_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    pred = np.where(rng.random(200) < 0.8, y, 1 - y)
    ours = classification_metrics(y, pred, None)
    assert ours["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert ours["f1"] == pytest.approx(f1_score(y, pred))
    assert ours["precision"] == pytest.approx(precision_score(y, pred))
    assert ours["recall"] == pytest.approx(recall_score(y, pred))


def test_fairness_by_hand() -> None:
    # group a: selection 2/4, TPR 2/2, FPR 0/2; group b: selection 1/4, TPR 1/2, FPR 0/2
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    pred = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    groups = ["a"] * 4 + ["b"] * 4
    figures = fairness(y, pred, groups)
    assert figures["demographic_parity_difference"] == pytest.approx(0.25)
    assert figures["equalized_odds_difference"] == pytest.approx(0.5)
    assert figures["groups"]["b"]["tpr"] == pytest.approx(0.5)


def test_unknown_metric_lists_the_known_ones() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown metric 'auc'; known: accuracy"):
        metric_spec("auc")
