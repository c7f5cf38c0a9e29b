"""``kiln models convert NAME VERSION --to onnx`` for the four source frameworks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiln.exceptions import InvalidArgumentError
from kiln.registry.convert import RELATION, ConversionError, convert_to_onnx
from kiln.registry.inference import load_for_inference, onnx_conversion
from kiln.settings import Settings
from kiln.testing.flavor_examples import (
    data,
    keras_model,
    lightgbm_model,
    sklearn_model,
    torch_mlp,
    xgboost_model,
)
from kiln.workspace import Workspace

SOURCES = {
    "sklearn": (sklearn_model, lambda X: X),
    "torch": (torch_mlp, lambda X: X.to_numpy("float32")),
    "xgboost": (xgboost_model, lambda X: X),
    "lightgbm": (lightgbm_model, lambda X: X),
    "keras": (keras_model, lambda X: X.to_numpy("float32")),
}


@pytest.mark.parametrize("framework", [pytest.param(f, marks=pytest.mark.slow) if f == "keras"
                                       else f for f in sorted(SOURCES)])
def test_convert_checks_registers_and_links(ws: Workspace, framework: str) -> None:
    build, shape = SOURCES[framework]
    X = shape(data()[0])
    source = ws.log_model(None, build(), "m", input_example=X[:5])
    assert source is not None and source.flavor == framework
    done = convert_to_onnx(ws, "m", source.version)
    target = done.target
    assert (target.name, target.version, target.flavor) == ("m", 2, "onnx")
    assert 0 <= done.max_abs_diff <= done.tolerance == 1e-4 and done.rows == 5
    assert target.signature == source.signature
    assert "checked" in target.description and "1e-04" in target.description
    edges = ws.store.edges_from("model_version", "m/1")
    assert [(e.relation, e.dst_id) for e in edges] == [(RELATION, "m/2")]
    assert onnx_conversion(ws, "m", 1) == target
    # tags inside the ONNX file and the bundle: what it came from and the check
    from kiln.artifacts.tree import read_manifest

    meta_sha = read_manifest(ws.artifacts, target.artifact)["kiln-model.json"]["sha256"]
    tags = json.loads(ws.artifacts.get_bytes(meta_sha))["flavor_meta"]["metadata"]
    assert tags["kiln.converted_from"] == "m/1" and tags["kiln.check"] == "passed"
    assert float(tags["kiln.check.tolerance"]) == 1e-4
    # the ONNX model predicts what the original does on more rows than the example
    native = ws.load_model("models:/m/1")
    onnx = load_for_inference(ws, "m", 1)
    assert onnx.flavor == "onnx" and onnx.model_version == source
    want, got = np.asarray(native.predict(X[:50])), np.asarray(onnx.predict(X[:50]))
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, atol=1e-4)
    else:
        assert (got == want).mean() >= 0.98  # float32 thresholds may flip a borderline row


def test_bad_input_registers_nothing(ws: Workspace) -> None:
    X = data()[0]
    ws.log_model(None, lambda df: [1] * len(df), "rule", input_example=X[:5])
    with pytest.raises(ConversionError, match=r"flavor 'pyfunc' has no ONNX converter; "
                                              "accepted: keras, lightgbm, sklearn, torch, xgboost"):
        convert_to_onnx(ws, "rule", 1)
    ws.log_model(None, sklearn_model(), "plain")  # no input example
    with pytest.raises(ConversionError, match="no input example"):
        convert_to_onnx(ws, "plain", 1)
    ws.log_model(None, sklearn_model(), "clf", input_example=X[:5])
    with pytest.raises(ConversionError, match=r"differs from the model by .* > tolerance"):
        convert_to_onnx(ws, "clf", 1, tolerance=1e-300)
    with pytest.raises(InvalidArgumentError, match="tolerance -1"):
        convert_to_onnx(ws, "clf", 1, tolerance=-1)
    for name in ("rule", "plain", "clf"):
        assert [v.version for v in ws.list_model_versions(name)] == [1]
        assert ws.store.edges_from("model_version", f"{name}/1") == []


def _kiln(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KILN_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "kiln.cli.main", *args], capture_output=True,
                          text=True, env=env, timeout=120, cwd=home)


@pytest.mark.slow
def test_cli_convert(tmp_path: Path) -> None:
    X = data()[0]
    with Workspace(settings=Settings(home=tmp_path)) as ws:
        ws.log_model(None, lightgbm_model(), "churn-clf", input_example=X[:5])
        ws.log_model(None, lambda df: [0] * len(df), "rule", input_example=X[:5])
    out = _kiln(tmp_path, "models", "convert", "churn-clf", "1", "--to", "onnx")
    assert out.returncode == 0, out.stderr
    assert "churn-clf v1 (lightgbm, onnxmltools) -> ONNX v2" in out.stdout
    assert "<= tolerance 1e-04" in out.stdout
    bad = _kiln(tmp_path, "models", "convert", "rule", "1", "--to", "onnx")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "has no ONNX converter" in bad.stderr
    wrong = _kiln(tmp_path, "models", "convert", "churn-clf", "1", "--to", "pmml")
    assert wrong.returncode == 2 and "pmml" in wrong.stderr
    listed: Any = json.loads(_kiln(tmp_path, "models", "versions", "churn-clf", "--json").stdout)
    assert [(v["version"], v["flavor"]) for v in listed] == [(1, "lightgbm"), (2, "onnx")]
