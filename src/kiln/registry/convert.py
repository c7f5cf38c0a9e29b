"""Convert a registered model version to ONNX, check it, and register it as a new version.

``convert_to_onnx(ws, "churn-clf", 3)`` loads version 3, converts it with the converter
of its framework (scikit-learn: skl2onnx; PyTorch and Keras on the torch backend:
``torch.onnx.export``; XGBoost and LightGBM: onnxmltools), runs both on the version's
input example and compares: class labels must be equal, every number (predictions,
probabilities) within ``tolerance`` (absolute; converted graphs compute in float32).
Only a passed check registers the ONNX model, as the next version of the same model,
with a lineage edge
``model_version:NAME/3 --converted_to_onnx--> model_version:NAME/4``; the ONNX file's
metadata and the version's description record what it was converted from and the check.
Serving prefers such a version's ONNX path (:mod:`kiln.registry.inference`).
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import LineageEdge, ModelVersion
from kiln.exceptions import InvalidArgumentError, KilnError

if TYPE_CHECKING:
    from kiln.registry.client import RegistryClient

DEFAULT_TOLERANCE = 1e-4
RELATION = "converted_to_onnx"


class ConversionError(InvalidArgumentError):
    """A model that cannot be converted to ONNX, or whose conversion disagrees with it."""


@dataclass(frozen=True)
class Conversion:
    """A checked conversion: the source version, the ONNX version, and the check's figures."""

    source: ModelVersion
    target: ModelVersion
    converter: str
    tolerance: float
    max_abs_diff: float
    rows: int

    @property
    def summary(self) -> str:
        return (f"{self.source.name} v{self.source.version} ({self.source.flavor}, "
                f"{self.converter}) -> ONNX v{self.target.version}; checked on {self.rows} "
                f"example rows: max |diff| {self.max_abs_diff:.2e} <= tolerance "
                f"{self.tolerance:.0e}")


def convert_to_onnx(ws: RegistryClient, name: str, version: int | str, *,
                    tolerance: float = DEFAULT_TOLERANCE, trusted: bool = False) -> Conversion:
    """Convert ``name``/``version`` to ONNX, check it on the input example, register it."""
    from kiln.artifacts.tree import get_tree
    from kiln.registry.model import load_folder, read_example, save_model

    if not tolerance > 0:
        raise InvalidArgumentError(f"tolerance {tolerance!r} is not accepted; use a number > 0")
    source = ws.get_model_version(name, version)
    what = f"{source.name} v{source.version}"
    converter = CONVERTERS.get(source.flavor)
    if converter is None:
        accepted = ", ".join(sorted(CONVERTERS))
        raise ConversionError(f"cannot convert {what}: its flavor {source.flavor!r} has no ONNX "
                              f"converter; accepted: {accepted}")
    with tempfile.TemporaryDirectory(prefix="kiln-convert-") as tmp:
        folder = Path(tmp)
        get_tree(ws.artifacts, source.artifact, folder)
        loaded = load_folder(folder, source, f"models:/{source.name}/{source.version}",
                             user=ws.user, writer=source.user, trusted=trusted)
        example = read_example(folder)
    if example is None:
        raise ConversionError(f"cannot convert {what}: it has no input example to check the "
                              "conversion on; log it with input_example=")
    tool, convert = converter
    try:
        matrix = _float_matrix(example)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proto = convert(loaded.raw, matrix)
    except KilnError:
        raise
    except Exception as exc:
        raise ConversionError(f"converting {what} ({source.flavor}) to ONNX with {tool} "
                              f"failed: {_first_line(exc)}") from None
    from kiln.registry.flavors.onnx import OnnxPredictor

    converted = OnnxPredictor(proto.SerializeToString())
    diff = check(loaded.raw, converted, example, tolerance, what)
    for key, value in {"kiln.converted_from": f"{source.name}/{source.version}",
                       "kiln.source_flavor": source.flavor, "kiln.converter": tool,
                       "kiln.check.tolerance": repr(tolerance),
                       "kiln.check.max_abs_diff": repr(diff),
                       "kiln.check.rows": str(len(matrix)), "kiln.check": "passed"}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    saved = save_model(ws.artifacts, proto, flavor="onnx", input_example=example,
                       signature=source.signature)
    description = (f"ONNX conversion of v{source.version} ({source.flavor}, {tool}); checked: "
                   f"max |diff| {diff:.2e} <= {tolerance:.0e} on {len(matrix)} example rows")
    target = ws._register(source.name, saved.artifact, "onnx", source.signature, None,
                          description)
    ws.store.add_edges([LineageEdge("model_version", f"{source.name}/{source.version}",
                                    "model_version", f"{target.name}/{target.version}",
                                    RELATION, now_ms())])
    return Conversion(source, target, tool, tolerance, diff, len(matrix))


def check(native: Any, converted: Any, example: Any, tolerance: float, what: str) -> float:
    """The largest absolute difference between the two models on ``example``; raises
    :class:`ConversionError` when labels differ or a number is off by more than ``tolerance``."""
    import numpy as np

    pairs = [(np.asarray(native.predict(example)), np.asarray(converted.predict(example)))]
    if hasattr(native, "predict_proba") and getattr(converted, "_proba", None):
        pairs.append((np.asarray(native.predict_proba(example)),
                      np.asarray(converted.predict_proba(example))))
    worst = 0.0
    for want, got in pairs:
        if want.shape != got.shape and want.size == got.size:
            got = got.reshape(want.shape)
        if want.shape != got.shape:
            raise ConversionError(f"the ONNX conversion of {what} answers shape {got.shape}, "
                                  f"the model {want.shape}; nothing registered")
        if want.dtype.kind in "fc":
            worst = max(worst, float(np.max(np.abs(want.astype(np.float64) - got))))
        elif not np.array_equal(want.astype(str), got.astype(str)):
            bad = int(np.sum(want.astype(str) != got.astype(str)))
            raise ConversionError(f"the ONNX conversion of {what} predicts another label on {bad}"
                                  f" of {len(want)} example rows; nothing registered")
    if not worst <= tolerance:
        raise ConversionError(f"the ONNX conversion of {what} differs from the model by "
                              f"{worst:.2e} > tolerance {tolerance:.0e}; nothing registered")
    return worst


def _float_matrix(example: Any) -> Any:
    from kiln.registry.flavors.base import as_matrix

    try:
        return as_matrix(example)
    except (TypeError, ValueError):
        raise ConversionError("ONNX conversion needs a numeric input example; this one has "
                              "non-numeric columns") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def _initial_types(matrix: Any) -> list[Any]:
    from onnxmltools.convert.common.data_types import FloatTensorType

    return [("input", FloatTensorType([None, matrix.shape[1]]))]


def _sklearn(model: Any, matrix: Any) -> Any:
    from skl2onnx import to_onnx

    return to_onnx(model, matrix[:1], options={"zipmap": False})


def _torch(model: Any, matrix: Any) -> Any:
    return _export_torch(model.module, matrix)


def _export_torch(module: Any, matrix: Any) -> Any:
    import io

    import onnx
    import torch

    buffer: Any = io.BytesIO()
    torch.onnx.export(module, (torch.from_numpy(matrix),), buffer, input_names=["input"],
                      output_names=["output"], dynamo=False,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    return onnx.load_model_from_string(buffer.getvalue())


def _keras(model: Any, matrix: Any) -> Any:
    """Keras 3 on the PyTorch backend: the model is a ``torch.nn.Module``, exported as one."""
    from kiln.registry.flavors.keras import import_keras

    if import_keras().backend.backend() != "torch":
        raise ConversionError("Keras models convert to ONNX on the torch backend only "
                              "(KERAS_BACKEND=torch)")
    return _export_torch(model.model, matrix)


def _xgboost(model: Any, matrix: Any) -> Any:
    import onnxmltools

    from kiln.registry.flavors.xgboost import BoosterPredictor

    raw = model.booster if isinstance(model, BoosterPredictor) else model
    return onnxmltools.convert_xgboost(raw, initial_types=_initial_types(matrix))


def _lightgbm(model: Any, matrix: Any) -> Any:
    import onnxmltools

    return onnxmltools.convert_lightgbm(model.booster, initial_types=_initial_types(matrix),
                                        zipmap=False)


CONVERTERS: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "sklearn": ("skl2onnx", _sklearn),
    "torch": ("torch.onnx.export", _torch),
    "keras": ("torch.onnx.export", _keras),
    "xgboost": ("onnxmltools", _xgboost),
    "lightgbm": ("onnxmltools", _lightgbm),
}
