"""Every flavor served by the model server, and the ONNX Runtime path preferred when a checked
conversion of the served version exists (server and batch inference)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from kiln.registry.convert import convert_to_onnx
from kiln.serving.app import ServingApp
from kiln.serving.batch import batch_predict
from kiln.serving.runtime import ServerOptions
from kiln.testing.flavor_examples import (
    data,
    keras_model,
    lightgbm_model,
    sklearn_model,
    torch_mlp,
    xgboost_model,
)
from kiln.workspace import Workspace


def _onnx() -> Any:
    from skl2onnx import to_onnx

    return to_onnx(sklearn_model(), data()[0].head(1).to_numpy("float32"),
                   options={"zipmap": False})


MODELS = {"torch": torch_mlp, "keras": keras_model, "xgboost": xgboost_model,
          "lightgbm": lightgbm_model, "onnx": _onnx, "sklearn": sklearn_model}
OPTIONS = ServerOptions(log_predictions=False, max_wait_ms=0.5)


def _serve(ws: Workspace, name: str) -> tuple[ServingApp, Any]:
    ws.set_alias(name, "production", ws.get_model(name).latest_version)
    ws.create_deployment(name, [f"{name}@production:100"], [])
    app = ServingApp(ws, name, OPTIONS)
    return app, app.app


@pytest.mark.parametrize("flavor", [pytest.param(f, marks=pytest.mark.slow) if f == "keras"
                                    else f for f in sorted(MODELS)])
def test_each_flavor_is_served(ws: Workspace, flavor: str) -> None:
    X = data()[0]
    ws.log_model(None, MODELS[flavor](), flavor, input_example=X.head(5))
    native = np.asarray(ws.load_model(f"models:/{flavor}/1").predict(X.head(4)))
    app, asgi = _serve(ws, flavor)
    with TestClient(asgi) as client:
        r = client.post("/predict", json={"records": X.head(4).to_dict(orient="records")})
        assert r.status_code == 200, r.text
        assert r.json()["model_version"] == 1
        np.testing.assert_allclose(np.asarray(r.json()["predictions"], dtype=float),
                                   native.astype(float), rtol=1e-5, atol=1e-6)
        missing = client.post("/predict", json={"records": [{"f0": 1.0}]})
        assert missing.status_code in (400, 422) and "f1" in missing.text
        assert app.runtime.table is not None
        assert app.runtime.table.routes[0].served.model.flavor == flavor


def test_a_checked_conversion_is_served_through_onnx_runtime(ws: Workspace,
                                                             tmp_path: Path) -> None:
    X = data()[0]
    ws.log_model(None, lightgbm_model(), "boost", input_example=X.head(5))
    native = ws.load_model("models:/boost/1")
    convert_to_onnx(ws, "boost", 1)  # version 2 is the ONNX one; production stays on 1
    ws.set_alias("boost", "production", 1)
    ws.create_deployment("boost", ["boost@production:100"], [])
    app = ServingApp(ws, "boost", OPTIONS)
    with TestClient(app.app) as client:
        r = client.post("/predict", json={"records": X.head(20).to_dict(orient="records")})
        assert r.status_code == 200, r.text
        assert r.json()["model_version"] == 1  # reported as the version asked for
        assert r.json()["predictions"] == native.predict(X.head(20)).tolist()
        assert app.runtime.table is not None
        served = app.runtime.table.routes[0].served.model
        assert served.flavor == "onnx" and type(served.raw).__name__ == "OnnxPredictor"
    X.to_parquet(tmp_path / "in.parquet")
    result = batch_predict(ws, "boost@production", tmp_path / "in.parquet",
                           tmp_path / "out.parquet", chunk_size=64)
    assert result.version == 1 and result.rows == len(X)
    scored = pd.read_parquet(tmp_path / "out.parquet")["prediction"].to_numpy()
    assert (scored == native.predict(X)).mean() >= 0.98  # float32 thresholds may flip a row
