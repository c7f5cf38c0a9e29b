"""The plain Python flavor: a function ``f(data) -> predictions`` or any object with ``predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_FILE = "model.cloudpickle"


class FunctionModel:
    """Wraps a plain function so it answers ``predict(data)``."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def predict(self, data: Any) -> Any:
        return self.fn(data)


class PyfuncFlavor:
    """Saves functions and objects by value with cloudpickle (lambdas and closures work)."""

    name = "pyfunc"

    def handles(self, model: object) -> bool:
        return callable(getattr(model, "predict", None)) or callable(model)

    def save(self, model: object, path: Path) -> dict[str, Any]:
        import cloudpickle

        wrapped = model if callable(getattr(model, "predict", None)) else FunctionModel(model)
        with open(path / _FILE, "wb") as f:
            cloudpickle.dump(wrapped, f)
        return {"file": _FILE}

    def unsafe_content(self, path: Path, meta: dict[str, Any]) -> list[str]:
        return ["cloudpickle"]

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        import pickle

        with open(path / meta.get("file", _FILE), "rb") as f:
            return pickle.load(f)
