"""Tiny fitted models of every in-tree flavor, for the flavor tests and benchmarks.

Imports torch (the state_dict example's class must be importable by name); the other
frameworks are imported by the function that builds their model.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")


def data(n: int = 200, features: int = 6) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(n, features)), columns=[f"f{i}" for i in range(features)])
    y = ((X["f0"] + 0.5 * X["f1"] - X["f2"]) > 0).astype(int).to_numpy()
    return X, y


def sklearn_model() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data()
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


def xgboost_model() -> Any:
    import xgboost

    X, y = data()
    return xgboost.XGBClassifier(n_estimators=8, max_depth=3, n_jobs=1).fit(X, y)


def lightgbm_model() -> Any:
    import lightgbm

    X, y = data()
    return lightgbm.LGBMClassifier(n_estimators=8, num_leaves=7, n_jobs=1, verbose=-1).fit(X, y)


def lightgbm_regressor() -> Any:
    import lightgbm

    X, y = data()
    return lightgbm.LGBMRegressor(n_estimators=8, num_leaves=7, n_jobs=1, verbose=-1).fit(
        X, X["f0"] * 2 + y)


def torch_mlp() -> Any:
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


class Scaled(torch.nn.Module):
    """Not TorchScript-able (a Python lambda attribute): saved as a state_dict + class."""

    def __init__(self, features: int = 6, scale: float = 2.0) -> None:
        super().__init__()
        self.init_kwargs = {"features": features, "scale": scale}
        self.linear = torch.nn.Linear(features, 2)
        self.act: Any = lambda t: torch.tanh(t) * scale

    def forward(self, x: Any) -> Any:
        return self.act(self.linear(x))


def torch_state_dict_model() -> Any:
    torch.manual_seed(0)
    return Scaled()


def keras_model() -> Any:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
