"""The ONNX flavor: any model in ONNX form, served with ONNX Runtime on the CPU.

Log an ``onnx.ModelProto`` or the path of a ``.onnx`` file. ``predict`` feeds the
model's single input as one float matrix (or one column per input when the graph has
one input per column) and answers its first output; classifiers converted by kiln
expose their ``label`` and ``probabilities`` outputs as ``predict`` / ``predict_proba``.
An ONNX file is a protobuf of operators and weights: no code runs on loading.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from kiln.registry.flavors.base import as_matrix, flat, module_of

_FILE = "model.onnx"
_DTYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(int64)": "int64",
           "tensor(int32)": "int32", "tensor(string)": "object", "tensor(bool)": "bool"}


class OnnxPredictor:
    """An ONNX Runtime session with ``predict`` (and ``predict_proba`` for classifiers)."""

    def __init__(self, model_path: Path | str | bytes, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3  # converted graphs may declare a label shape of {1}
        if threads:
            options.intra_op_num_threads = threads
        # ONNX Runtime's worker threads busy-wait for the next call by default: in a server
        # they then take the cores the event loop needs to parse the next request (a
        # 10,000-row request took 90 ms instead of 30 on two cores)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        source = model_path if isinstance(model_path, bytes) else str(model_path)
        self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        self.inputs = [(i.name, _DTYPES.get(i.type, "float32")) for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        self._label = "label" if "label" in self.outputs else self.outputs[0]
        self._proba = next((o for o in ("probabilities", "output_probability")
                            if o in self.outputs), None)

    def _feed(self, data: Any) -> dict[str, Any]:
        if len(self.inputs) == 1:
            name, dtype = self.inputs[0]
            return {name: as_matrix(data, dtype)}
        return {name: as_matrix(data[name], dtype) for name, dtype in self.inputs}

    def run(self, data: Any, output: str | None = None) -> Any:
        """The named output (default: the first) for ``data``."""
        names = [output or self.outputs[0]]
        return self.session.run(names, self._feed(data))[0]

    def predict(self, data: Any) -> Any:
        return flat(self.run(data, self._label))

    def predict_proba(self, data: Any) -> Any:
        if self._proba is None:
            from kiln.exceptions import InvalidArgumentError

            raise InvalidArgumentError("this ONNX model has no probabilities output")
        return self.run(data, self._proba)


class OnnxFlavor:
    """Saves ``onnx.ModelProto`` objects and ``.onnx`` files; loads an ONNX Runtime session."""

    name = "onnx"

    def handles(self, model: object) -> bool:
        if isinstance(model, str | Path):
            return str(model).endswith(".onnx") and Path(model).is_file()
        return module_of(model, "onnx") and type(model).__name__ == "ModelProto"

    def wrap(self, model: object) -> OnnxPredictor:
        if isinstance(model, str | Path):
            return OnnxPredictor(model)
        return OnnxPredictor(model.SerializeToString())  # type: ignore[attr-defined]

    def save(self, model: object, path: Path) -> dict[str, Any]:
        import onnx

        if isinstance(model, str | Path):
            shutil.copyfile(model, path / _FILE)
        else:
            onnx.save_model(model, str(path / _FILE))  # type: ignore[arg-type]
        proto = onnx.load_model(str(path / _FILE), load_external_data=False)
        return {"file": _FILE, "format": "onnx", "ir_version": int(proto.ir_version),
                "opsets": {o.domain or "ai.onnx": int(o.version) for o in proto.opset_import},
                "metadata": {p.key: p.value for p in proto.metadata_props}}

    def load(self, path: Path, meta: dict[str, Any]) -> OnnxPredictor:
        return OnnxPredictor(path / meta.get("file", _FILE))
