"""Every in-tree flavor passes the flavor conformance kit (kiln.testing.flavors)."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.testing import FlavorCase, FlavorSuite
from kiln.testing.flavor_examples import (
    data,
    keras_model,
    lightgbm_model,
    lightgbm_regressor,
    sklearn_model,
    torch_mlp,
    torch_state_dict_model,
    xgboost_model,
)


def _example() -> Any:
    return data()[0].head(5)


def _onnx_model() -> Any:
    from skl2onnx import to_onnx

    return to_onnx(sklearn_model(), _example().to_numpy("float32"), options={"zipmap": False})


CASES = {
    "sklearn": lambda: FlavorCase("sklearn", sklearn_model(), _example()),
    "xgboost": lambda: FlavorCase("xgboost", xgboost_model(), _example()),
    "lightgbm": lambda: FlavorCase("lightgbm", lightgbm_model(), _example()),
    "lightgbm-regressor": lambda: FlavorCase("lightgbm", lightgbm_regressor(), _example()),
    "torch-script": lambda: FlavorCase("torch", torch_mlp(), _example().to_numpy("float32")),
    "torch-state-dict": lambda: FlavorCase("torch", torch_state_dict_model(),
                                           _example().to_numpy("float32")),
    "keras": lambda: FlavorCase("keras", keras_model(), _example().to_numpy("float32"),
                                rtol=1e-5, atol=1e-6),
    "onnx": lambda: FlavorCase("onnx", _onnx_model(), _example()),
}


class TestInTreeFlavors(FlavorSuite):
    @pytest.fixture(params=[pytest.param(c, marks=pytest.mark.slow) if c == "keras" else c
                            for c in sorted(CASES)])
    def case(self, request: pytest.FixtureRequest) -> FlavorCase:
        return CASES[request.param]()


def test_torch_signature_is_a_tensor_spec(ws: Any) -> None:
    """Array input examples give tensor specs (dtype and shape, batch dimension free)."""
    mv = ws.log_model(None, torch_mlp(), "mlp", input_example=_example().to_numpy("float32"))
    assert mv.signature.inputs == [{"type": "tensor", "dtype": "float32", "shape": [-1, 6]}]
    assert mv.signature.outputs == [{"name": "prediction", "type": "float"}]
