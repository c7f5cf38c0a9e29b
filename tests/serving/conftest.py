"""Models and deployments shared by the serving tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from kiln.workspace import Workspace


@pytest.fixture(scope="session")
def breast_cancer() -> tuple[pd.DataFrame, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(X, y)
    return X, model


def _explode(df: pd.DataFrame) -> Any:
    if (df["x"] < 0).any():
        raise ValueError("negative x")
    return df["x"] * 2


@pytest.fixture
def served(ws: Workspace, breast_cancer: tuple[pd.DataFrame, Any]) -> Iterator[Workspace]:
    """``bc`` versions 1-3 (production=1, challenger=2, candidate=3) and ``flaky`` (raises on
    negative x), with deployment ``churn``: 90/10 A/B and a shadow."""
    X, model = breast_cancer
    for _ in range(3):
        ws.log_model(None, model, "bc", input_example=X.head(3))
    ws.set_alias("bc", "production", 1)
    ws.set_alias("bc", "challenger", 2)
    ws.set_alias("bc", "candidate", 3)
    ws.log_model(None, _explode, "flaky", input_example=pd.DataFrame({"x": [1.0, 2.0]}))
    ws.set_alias("flaky", "production", 1)
    ws.create_deployment("churn", ["bc@production:90", "bc@challenger:10"], ["bc@candidate"])
    yield ws
