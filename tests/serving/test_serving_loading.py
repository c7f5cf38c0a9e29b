"""Which models the server and ``kiln predict`` may give a plain float matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kiln.exceptions import InvalidArgumentError
from kiln.serving.loading import load_model_for_serving, predict_array, takes_array
from kiln.workspace import Workspace


def test_a_model_fitted_on_a_frame_takes_the_matrix(ws: Workspace,
                                                    breast_cancer: tuple[pd.DataFrame, Any]
                                                    ) -> None:
    X, model = breast_cancer
    ws.log_model(None, model, "bc", input_example=X.head(3))
    loaded = load_model_for_serving(ws, "models:/bc/1")
    cols = list(X.columns)
    assert takes_array(loaded, cols)
    assert predict_array(loaded, X.values[:5]).tolist() == model.predict(X.head(5)).tolist()


def test_models_that_need_a_frame_keep_getting_one(ws: Workspace) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 0.1, 0.9, 0.3]})
    by_name = make_pipeline(ColumnTransformer([("s", StandardScaler(), ["b", "a"])]),
                            LinearRegression()).fit(frame, [1.0, 2.0, 3.0, 4.0])
    ws.log_model(None, by_name, "named", input_example=frame.head(2))
    ws.log_model(None, lambda df: df["a"] * 2, "fn", input_example=frame.head(2))
    assert not takes_array(load_model_for_serving(ws, "models:/named/1"), ["a", "b"])
    assert not takes_array(load_model_for_serving(ws, "models:/fn/1"), ["a", "b"])


def test_batch_predict_names_a_column_with_missing_values(
        ws: Workspace, breast_cancer: tuple[pd.DataFrame, Any], tmp_path: Path) -> None:
    X, model = breast_cancer
    ws.log_model(None, model, "bc", input_example=X.head(3))
    holes = X.head(50).copy()
    holes.loc[30, "mean area"] = np.nan
    holes.to_parquet(tmp_path / "in.parquet")
    with pytest.raises(InvalidArgumentError, match="'mean area' has 1 missing"):
        ws.batch_predict("bc/1", tmp_path / "in.parquet", tmp_path / "out.parquet",
                         chunk_size=20)
    assert list(tmp_path.iterdir()) == [tmp_path / "in.parquet"]
