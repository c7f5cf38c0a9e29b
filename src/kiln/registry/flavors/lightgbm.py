"""The LightGBM flavor: boosters and scikit-learn-API models in LightGBM's model text format.

The text file holds the trees and parameters (no pickle). A scikit-learn-API model is
loaded back as :class:`LightGBMModel`, which answers ``predict`` and ``predict_proba``
the way ``LGBMClassifier`` / ``LGBMRegressor`` do, from the saved classes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiln.registry.flavors.base import module_of

_FILE = "model.txt"


class LightGBMModel:
    """A LightGBM booster with the scikit-learn API's ``predict`` / ``predict_proba``.

    ``classes`` is None for regressors and raw boosters (``predict`` is the booster's).
    """

    def __init__(self, booster: Any, classes: list[Any] | None = None) -> None:
        self.booster = booster
        self.classes = classes

    def predict_proba(self, data: Any) -> Any:
        import numpy as np

        proba = np.asarray(self.booster.predict(data))
        return np.column_stack([1.0 - proba, proba]) if proba.ndim == 1 else proba

    def predict(self, data: Any) -> Any:
        import numpy as np

        if self.classes is None:
            return np.asarray(self.booster.predict(data))
        return np.asarray(self.classes)[np.argmax(self.predict_proba(data), axis=1)]


class LightGBMFlavor:
    """Saves ``lightgbm.Booster`` and ``lightgbm.LGBMModel`` subclasses as model text."""

    name = "lightgbm"

    def handles(self, model: object) -> bool:
        return module_of(model, "lightgbm")

    def wrap(self, model: object) -> Any:
        return LightGBMModel(model) if type(model).__name__ == "Booster" else model

    def save(self, model: object, path: Path) -> dict[str, Any]:
        import lightgbm

        booster: Any = model if type(model).__name__ == "Booster" else \
            model.booster_  # type: ignore[attr-defined]
        booster.save_model(str(path / _FILE))
        classes = getattr(model, "classes_", None)
        return {"file": _FILE, "format": "lightgbm-text", "kind": type(model).__name__,
                "classes": None if classes is None else [_plain(c) for c in classes],
                "lightgbm_version": lightgbm.__version__}

    def load(self, path: Path, meta: dict[str, Any]) -> LightGBMModel:
        import lightgbm

        booster = lightgbm.Booster(model_file=str(path / meta.get("file", _FILE)))
        return LightGBMModel(booster, meta.get("classes"))


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if item is not None else value
