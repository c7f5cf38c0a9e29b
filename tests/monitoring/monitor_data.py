"""Data and a trained model shared by the monitoring tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kiln.workspace import Workspace

FEATURES = ["age", "balance", "plan"]


def churn_frame(n: int, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    """Customers: ``churned`` depends on age and balance. ``shift`` moves the recorded
    age and balance (a changed upstream system) but not what makes customers churn."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 8, n)
    balance = rng.normal(1000, 250, n)
    plan = rng.choice(["basic", "pro"], n)
    churned = ((age - 40) / 8 + (balance - 1000) / 250 + rng.normal(0, 0.3, n) > 0).astype(int)
    return pd.DataFrame({"age": (age + shift * 10).round(1),
                         "balance": (balance + shift * 400).round(2), "plan": plan,
                         "churned": churned})


def numeric(df: pd.DataFrame) -> pd.DataFrame:
    return df[["age", "balance"]]


def train(ws: Workspace, frame: pd.DataFrame, tmp: Path, name: str = "churn-clf") -> int:
    """Version ``frame`` as dataset churn, train in a run that reads it, register."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    path = tmp / f"churn-{len(frame)}.parquet"
    frame.to_parquet(path, index=False)
    dv = ws.add_dataset(path, "churn")
    run = ws.create_run("churn", name="train")
    ws.log_input(run.run_id, dv)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(numeric(frame),
                                                                    frame["churned"])
    mv = ws.log_model(run.run_id, model, name, input_example=numeric(frame).head(5))
    ws.end_run(run.run_id)
    assert mv is not None
    return mv.version
