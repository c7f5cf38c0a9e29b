"""The scikit-learn flavor: any estimator or pipeline, pickled."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

_FILE = "model.pkl"


class SklearnFlavor:
    """Saves scikit-learn estimators with pickle protocol 5.

    Like any pickle, load only models from a registry you trust: the artifact
    hash check guarantees the bytes are the ones logged, not who logged them.
    """

    name = "sklearn"

    def handles(self, model: object) -> bool:
        module = type(model).__module__
        if module.startswith("sklearn."):
            return True
        if "sklearn.base" in sys.modules:
            from sklearn.base import BaseEstimator

            return isinstance(model, BaseEstimator)
        return False

    def save(self, model: object, path: Path) -> dict[str, Any]:
        with open(path / _FILE, "wb") as f:
            pickle.dump(model, f, protocol=5)
        meta: dict[str, Any] = {"file": _FILE, "class": _qualname(model)}
        try:
            from importlib.metadata import version

            meta["sklearn_version"] = version("scikit-learn")
        except Exception:
            pass
        return meta

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        with open(path / meta.get("file", _FILE), "rb") as f:
            return pickle.load(f)


def _qualname(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"
