"""The model registry used as a user would: log, register, alias, load, verify."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import kiln
from kiln.artifacts.local import LocalArtifactStore
from kiln.artifacts.tree import read_manifest
from kiln.exceptions import (
    ArtifactCorruptedError,
    InvalidArgumentError,
    NotFoundError,
    SignatureError,
)
from kiln.workspace import Workspace


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def model(data: tuple[pd.DataFrame, pd.Series]) -> LogisticRegression:
    X, y = data
    return LogisticRegression(max_iter=5000).fit(X, y)


def test_log_model_registers_versions_with_signature(
    ws: Workspace, data: tuple[pd.DataFrame, pd.Series], model: LogisticRegression
) -> None:
    X, _ = data
    with kiln.start_run(experiment="bc") as run:
        mv = kiln.log_model(model, name="bc-clf", input_example=X[:5])
        mv2 = kiln.log_model(model, name="bc-clf", input_example=X[:5])
    assert mv is not None and mv2 is not None
    assert (mv.name, mv.version, mv.run_id, mv.flavor) == ("bc-clf", 1, run.run_id, "sklearn")
    assert mv2.version == 2 and mv2.artifact == mv.artifact  # same bytes, stored once
    assert mv.signature is not None
    assert mv.signature.inputs[0] == {"name": "mean radius", "type": "double"}
    assert mv.signature.outputs == [{"name": "prediction", "type": "long"}]
    assert any(a.path == "model/kiln-model.json" for a in ws.list_artifacts(run.run_id))
    edges = ws.store.edges_from("run", run.run_id)
    assert [e.dst_id for e in edges] == ["bc-clf/1", "bc-clf/2"]


def test_aliases_and_loading(ws: Workspace, data: tuple[pd.DataFrame, pd.Series],
                             model: LogisticRegression) -> None:
    X, _ = data
    with kiln.start_run(experiment="bc"):
        for _ in range(3):
            kiln.log_model(model, name="bc-clf", input_example=X[:5])
    kiln.set_alias("bc-clf", "production", version=3)
    kiln.set_alias("bc-clf", "production", version="2")
    for uri in ("models:/bc-clf@production", "models:/bc-clf/2", "models:/bc-clf/latest"):
        loaded = kiln.load_model(uri)
        np.testing.assert_array_equal(loaded.predict(X[:20]), model.predict(X[:20]))
    assert kiln.load_model("models:/bc-clf@production").model_version.version == 2  # type: ignore[union-attr]
    history = ws.alias_history("bc-clf", "production")
    assert [(e.from_version, e.to_version) for e in history] == [(None, 3), (3, 2)]
    kiln.delete_alias("bc-clf", "production")
    with pytest.raises(NotFoundError, match="no alias 'production'"):
        kiln.load_model("models:/bc-clf@production")


def test_signature_is_enforced(ws: Workspace, data: tuple[pd.DataFrame, pd.Series],
                               model: LogisticRegression) -> None:
    X, _ = data
    with kiln.start_run(experiment="bc"):
        kiln.log_model(model, name="bc-clf", input_example=X[:5])
    loaded = kiln.load_model("models:/bc-clf/1")
    shuffled = X[:3][list(reversed(X.columns))]
    np.testing.assert_array_equal(loaded.predict(shuffled), model.predict(X[:3]))
    with pytest.raises(SignatureError, match="missing column 'mean radius'"):
        loaded.predict(X[:3].drop(columns=["mean radius"]))
    bad = X[:3].astype({"mean area": object})
    bad.loc[bad.index[0], "mean area"] = "big"
    with pytest.raises(SignatureError, match="'mean area' must be double; got 'big'"):
        loaded.predict(bad)
    assert loaded.predict_proba(X[:2]).shape == (2, 2)


def test_tampered_model_is_refused(ws: Workspace, data: tuple[pd.DataFrame, pd.Series],
                                   model: LogisticRegression) -> None:
    X, _ = data
    with kiln.start_run(experiment="bc"):
        mv = kiln.log_model(model, name="bc-clf", input_example=X[:5])
    assert mv is not None and isinstance(ws.artifacts, LocalArtifactStore)
    pkl = read_manifest(ws.artifacts, mv.artifact)["model.skops"]["sha256"]
    path = ws.artifacts.path_of(pkl)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ArtifactCorruptedError, match=pkl):
        kiln.load_model("models:/bc-clf/1")


def test_python_function_flavor(ws: Workspace) -> None:
    threshold = 0.5

    def rule(df: pd.DataFrame) -> list[int]:
        return [int(v > threshold) for v in df["score"]]

    with kiln.start_run(experiment="rules") as run:
        mv = kiln.log_model(rule, name="rule", input_example=pd.DataFrame({"score": [0.1, 0.9]}))
    assert mv is not None and mv.flavor == "pyfunc"
    loaded = kiln.load_model("models:/rule/1")
    assert loaded.predict(pd.DataFrame({"score": [0.2, 0.7]})) == [0, 1]
    assert kiln.load_model(f"runs:/{run.run_id}/model").predict({"score": [0.9]}) == [1]
    registered = ws.register_model(f"runs:/{run.run_id}/model", "rule-copy")
    assert registered.version == 1 and registered.flavor == "pyfunc"


def test_bad_registry_input(ws: Workspace) -> None:
    for uri in ("models:/", "models:/x/0", "s3://x", "models:/bad name/1", "models:/x@latest"):
        with pytest.raises(InvalidArgumentError, match="not accepted"):
            kiln.load_model(uri)
    with pytest.raises(NotFoundError, match="'ghost' is not registered"):
        kiln.load_model("models:/ghost/1")
    with pytest.raises(InvalidArgumentError, match="version 'abc'"):
        kiln.set_alias("ghost", "production", version="abc")
    with kiln.start_run(experiment="e"), pytest.raises(InvalidArgumentError, match="no predict"):
        kiln.log_model(object(), name="nothing")
    assert ws.list_models() == []  # nothing half-registered


def test_load_by_alias_in_fresh_process(tmp_path: Path, data: tuple[pd.DataFrame, pd.Series],
                                        model: LogisticRegression) -> None:
    X, _ = data
    ws = Workspace(home=tmp_path)
    with kiln.use_workspace(ws), kiln.start_run(experiment="bc"):
        kiln.log_model(model, name="bc-clf", input_example=X[:5])
    ws.set_alias("bc-clf", "champion", 1)
    ws.close()
    code = (
        "import kiln; from sklearn.datasets import load_breast_cancer as l; "
        "X = l(as_frame=True).data; m = kiln.load_model('models:/bc-clf@champion'); "
        "print(m.predict(X[:4]).tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], env={"KILN_HOME": str(tmp_path),
                         "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str([int(v) for v in model.predict(X[:4])])


def test_registry_on_postgres(pg_ws: Workspace, data: tuple[pd.DataFrame, pd.Series],
                              model: LogisticRegression) -> None:
    X, _ = data
    with kiln.start_run(experiment="bc"):
        mv = kiln.log_model(model, name="bc-clf", input_example=X[:5])
    assert mv is not None
    kiln.set_alias("bc-clf", "production", mv.version)
    loaded = kiln.load_model("models:/bc-clf@production")
    np.testing.assert_array_equal(loaded.predict(X[:5]), model.predict(X[:5]))
    df = kiln.search_runs(experiment="bc")
    assert len(df) == 1 and df.iloc[0]["status"] == "FINISHED"
