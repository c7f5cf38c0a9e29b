"""The Keras 3 flavor: models in Keras's native ``.keras`` format, on the PyTorch backend.

``KERAS_BACKEND`` defaults to ``torch`` here so TensorFlow is never needed. Loading uses
``safe_mode=True``: a ``.keras`` file holds configuration and weights, and lambdas in it
are refused by Keras itself, so no trust check is needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kiln.registry.flavors.base import as_matrix, flat, module_of

_FILE = "model.keras"


def import_keras() -> Any:
    """Keras, on the PyTorch backend unless ``KERAS_BACKEND`` says otherwise."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    return keras


class KerasPredictor:
    """A Keras model as a model with ``predict``: one forward pass, no progress bar."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, data: Any) -> Any:
        keras = import_keras()
        out = self.model(as_matrix(data), training=False)
        return flat(keras.ops.convert_to_numpy(out))


class KerasFlavor:
    """Saves ``keras.Model`` objects with ``model.save("model.keras")``."""

    name = "keras"

    def handles(self, model: object) -> bool:
        return module_of(model, "keras")

    def wrap(self, model: object) -> KerasPredictor:
        return KerasPredictor(model)

    def save(self, model: object, path: Path) -> dict[str, Any]:
        keras = import_keras()
        model.save(path / _FILE)  # type: ignore[attr-defined]
        return {"file": _FILE, "format": "keras", "keras_version": keras.__version__,
                "backend": keras.backend.backend()}

    def load(self, path: Path, meta: dict[str, Any]) -> KerasPredictor:
        keras = import_keras()
        return KerasPredictor(keras.saving.load_model(path / meta.get("file", _FILE),
                                                      safe_mode=True))
