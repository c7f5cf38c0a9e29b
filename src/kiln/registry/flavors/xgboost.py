"""The XGBoost flavor: boosters and scikit-learn-API models in XGBoost's own UBJSON format.

The file holds trees and parameters only (no pickle); a scikit-learn-API model
(``XGBClassifier``...) is rebuilt from its class name, which must be one of XGBoost's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiln.exceptions import InvalidArgumentError
from kiln.registry.flavors.base import flat, module_of

_FILE = "model.ubj"


class BoosterPredictor:
    """A raw ``xgboost.Booster`` as a model with ``predict`` (builds the DMatrix)."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def predict(self, data: Any) -> Any:
        import xgboost

        return flat(self.booster.predict(xgboost.DMatrix(data)))


class XGBoostFlavor:
    """Saves ``xgboost.Booster`` and ``xgboost.XGBModel`` subclasses with ``save_model``."""

    name = "xgboost"

    def handles(self, model: object) -> bool:
        return module_of(model, "xgboost")

    def wrap(self, model: object) -> Any:
        return model if hasattr(model, "predict") and not _is_booster(model) else \
            BoosterPredictor(model)

    def save(self, model: object, path: Path) -> dict[str, Any]:
        import xgboost

        kind = "booster" if _is_booster(model) else type(model).__name__
        if kind != "booster" and not hasattr(xgboost, kind):
            raise InvalidArgumentError(
                f"cannot save {kind}: the xgboost flavor saves xgboost.Booster and "
                "xgboost's own scikit-learn classes (XGBClassifier, XGBRegressor, ...)"
            )
        model.save_model(str(path / _FILE))  # type: ignore[attr-defined]
        return {"file": _FILE, "format": "ubj", "kind": kind,
                "xgboost_version": xgboost.__version__}

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        import xgboost

        kind = str(meta.get("kind", "booster"))
        if kind == "booster":
            booster = xgboost.Booster()
            booster.load_model(str(path / meta["file"]))
            return BoosterPredictor(booster)
        model = getattr(xgboost, kind)()
        model.load_model(str(path / meta["file"]))
        return model


def _is_booster(model: object) -> bool:
    return type(model).__name__ == "Booster"
