"""Performance metrics against scikit-learn's, and the errors for labels of the wrong type."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring import PerformanceResult, classification_metrics, regression_metrics


def test_binary_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 800)
    score = np.clip(0.3 * y + 0.7 * rng.random(800), 0, 1)
    score[:50] = 0.5  # ties
    pred = (score > 0.5).astype(int)
    r = classification_metrics(y, pred, score)
    assert r.task == "classification" and r.n_labelled == 800
    assert r.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert r.metrics["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert r.metrics["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert r.metrics["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert r.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score))
    assert r.metrics["log_loss"] == pytest.approx(skm.log_loss(y, score))
    assert PerformanceResult.from_dict(r.to_dict()) == r


def test_multiclass_matches_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 600)
    score = rng.dirichlet([1, 1, 1], 600)
    score[np.arange(600), y] += 0.6
    score /= score.sum(axis=1, keepdims=True)
    pred = score.argmax(axis=1)
    r = classification_metrics(y, pred, score)
    assert r.metrics["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert r.metrics["recall"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert r.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score, multi_class="ovr"))
    assert r.metrics["log_loss"] == pytest.approx(skm.log_loss(y, score))


def test_unlabelled_rows_are_left_out_and_string_labels_work() -> None:
    r = classification_metrics(["yes", "no", None, "yes"], ["yes", "yes", "no", "yes"])
    assert r.n_labelled == 3 and r.metrics["accuracy"] == pytest.approx(2 / 3)
    assert r.classes == ["no", "yes"]


def test_regression_matches_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(size=300)
    pred = y + rng.normal(0, 0.3, 300)
    r = regression_metrics(y, pred)
    assert r.metrics["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert r.metrics["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert r.metrics["r2"] == pytest.approx(skm.r2_score(y, pred))


def test_labels_of_the_wrong_type_are_one_clear_error() -> None:
    with pytest.raises(InvalidArgumentError, match="labels are strings"):
        classification_metrics(["a", "b"], [1, 0])
    with pytest.raises(InvalidArgumentError, match="fractional numbers"):
        classification_metrics([0.3, 0.5], [1, 0])
    with pytest.raises(InvalidArgumentError, match="must be numbers"):
        regression_metrics(["a", "b"], [1.0, 0.0])
    with pytest.raises(InvalidArgumentError, match="3 rows but y_pred has 2"):
        regression_metrics([1, 2, 3], [1, 2])
