"""Shared test data: a small tabular classification problem with a sensitive attribute."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kiln.workspace import Workspace


def frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.normal(size=(3, n))
    gender = rng.choice(["F", "M"], size=n)
    logit = 2.0 * x1 - 1.5 * x2 + 0.2 * x3
    y = (logit + rng.normal(scale=0.8, size=n) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "gender": gender, "label": y})


def register(ws: Workspace, name: str = "churn-clf", C: float = 1.0,
             columns: tuple[str, ...] = ("x1", "x2", "x3"), weak: bool = False) -> Any:
    from sklearn.linear_model import LogisticRegression

    data = frame()
    X = data[list(columns)]
    # A weak model learns from one barely useful column only.
    fit_on = X.assign(x1=0.0, x2=0.0) if weak else X
    model = LogisticRegression(C=C).fit(fit_on, data["label"])
    run = ws.create_run("train")
    mv = ws.log_model(run.run_id, model, name, input_example=X.head(5),
                      description=f"logistic regression C={C}")
    ws.end_run(run.run_id)
    return mv
