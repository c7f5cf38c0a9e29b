"""``kiln.autolog()`` with XGBoost, LightGBM and Keras: params, per-iteration metrics, model."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import kiln
from kiln.testing.flavor_examples import data
from kiln.workspace import Workspace


@pytest.fixture
def autologged(ws: Workspace) -> Iterator[Workspace]:
    import keras  # noqa: F401 - autolog patches the frameworks already imported
    import lightgbm  # noqa: F401
    import xgboost  # noqa: F401

    kiln.autolog(experiment="auto", registered_model_name="auto-model")
    try:
        yield ws
    finally:
        kiln.autolog(disable=True)


def _only_run(ws: Workspace) -> tuple[str, dict[str, str]]:
    df = kiln.search_runs(experiment="auto")
    assert len(df) == 1, "exactly one run per training call"
    row = df.iloc[0]
    params = {k.removeprefix("params."): v for k, v in row.items()
              if k.startswith("params.") and isinstance(v, str)}
    return str(row["run_id"]), params


def test_xgboost_sklearn_api(autologged: Workspace) -> None:
    import xgboost

    X, y = data()
    model = xgboost.XGBClassifier(n_estimators=6, max_depth=2, n_jobs=1)
    model.fit(X[:150], y[:150], eval_set=[(X[150:], y[150:])], verbose=False)
    run_id, params = _only_run(autologged)
    assert params["max_depth"] == "2" and params["n_estimators"] == "6"
    history = autologged.get_metric_history(run_id, "validation_0-logloss")
    assert [m.step for m in history] == list(range(6))
    assert history[-1].value < history[0].value
    loaded = autologged.load_model("models:/auto-model/1")
    assert loaded.flavor == "xgboost"
    assert loaded.predict(X[:20]).tolist() == model.predict(X[:20]).tolist()


def test_lightgbm_train_api(autologged: Workspace) -> None:
    import lightgbm

    X, y = data()
    train = lightgbm.Dataset(X[:150], y[:150])
    valid = lightgbm.Dataset(X[150:], y[150:], reference=train)
    booster = lightgbm.train({"objective": "binary", "num_leaves": 7, "verbose": -1},
                             train, num_boost_round=5, valid_sets=[valid])
    run_id, params = _only_run(autologged)
    assert params["objective"] == "binary" and params["num_leaves"] == "7"
    history = autologged.get_metric_history(run_id, "valid_0-binary_logloss")
    assert [m.step for m in history] == list(range(5))
    loaded = autologged.load_model("models:/auto-model/1")
    assert loaded.flavor == "lightgbm"
    np.testing.assert_allclose(loaded.predict(X[:10]), booster.predict(X[:10]))


@pytest.mark.slow
def test_keras_fit(autologged: Workspace) -> None:
    from kiln.testing.flavor_examples import keras_model

    X, y = data()
    model = keras_model()
    model.fit(X.to_numpy("float32"), y, epochs=3, batch_size=32, verbose=0,
              validation_split=0.2)
    run_id, params = _only_run(autologged)
    assert params["epochs"] == "3" and params["optimizer"] == "Adam"
    assert [m.step for m in autologged.get_metric_history(run_id, "loss")] == [0, 1, 2]
    assert len(autologged.get_metric_history(run_id, "val_loss")) == 3
    loaded = autologged.load_model("models:/auto-model/1")
    assert loaded.flavor == "keras"
    want = model.predict(X.to_numpy("float32")[:4], verbose=0).ravel()
    np.testing.assert_allclose(loaded.predict(X.to_numpy("float32")[:4]), want, rtol=1e-5)


def test_disable_restores_the_frameworks(ws: Workspace) -> None:
    import lightgbm
    import xgboost

    originals = (xgboost.train, lightgbm.train, lightgbm.LGBMModel.fit)
    kiln.autolog()
    assert getattr(xgboost.train, "__kiln_autolog__", False)
    kiln.autolog(disable=True)
    assert (xgboost.train, lightgbm.train, lightgbm.LGBMModel.fit) == originals
