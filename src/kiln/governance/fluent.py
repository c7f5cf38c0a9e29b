"""Governance calls on the default workspace (``kiln.evaluate``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.entities import ModelVersion
    from kiln.governance.evaluate import Evaluation


def evaluate(
    model: ModelVersion | str,
    data: Any,
    *,
    label: str,
    sensitive: Sequence[str] = (),
    dataset: str = "default",
    importance: bool = True,
) -> Evaluation:
    """Evaluate a model version on data and store metrics, fairness and importance with it.

    >>> # kiln.evaluate("models:/churn-clf/3", "data/holdout.csv", label="churned",
    >>> #               sensitive=["gender"])
    """
    from kiln.fluent import get_workspace

    return get_workspace().evaluate(model, data, label=label, sensitive=sensitive,
                                    dataset=dataset, importance=importance)
