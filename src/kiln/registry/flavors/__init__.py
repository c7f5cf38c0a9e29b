"""Model flavors, looked up by name; more arrive through the ``kiln.flavors`` entry points.

The order of :data:`DETECTION_ORDER` is the order in which ``log_model`` tries
flavors when none is named; ``pyfunc`` is the fallback for anything with ``predict``.
"""

from __future__ import annotations

from kiln._plugins import available, load_plugin
from kiln.exceptions import InvalidArgumentError
from kiln.registry.flavors.base import Flavor

FLAVORS = {
    "sklearn": "kiln.registry.flavors.sklearn:SklearnFlavor",
    "pyfunc": "kiln.registry.flavors.pyfunc:PyfuncFlavor",
    "torch": "kiln.registry.flavors.pytorch:TorchFlavor",
    "keras": "kiln.registry.flavors.keras:KerasFlavor",
    "xgboost": "kiln.registry.flavors.xgboost:XGBoostFlavor",
    "lightgbm": "kiln.registry.flavors.lightgbm:LightGBMFlavor",
    "onnx": "kiln.registry.flavors.onnx:OnnxFlavor",
}
# Boosters and Keras come before scikit-learn: their scikit-learn-API classes are estimators
# too, but their native formats are safer and smaller than a generic one.
DETECTION_ORDER = ("xgboost", "lightgbm", "keras", "torch", "onnx", "sklearn")
GROUP = "kiln.flavors"


def get_flavor(name: str) -> Flavor:
    """The flavor registered as ``name``."""
    flavor: Flavor = load_plugin(GROUP, FLAVORS, name, what="model flavor")()
    return flavor


def detect_flavor(model: object) -> Flavor:
    """The first flavor that handles ``model``: built-ins, then plug-ins, then ``pyfunc``."""
    names = [*DETECTION_ORDER, *(n for n in available(GROUP, FLAVORS) if n not in FLAVORS)]
    for name in names:
        flavor = get_flavor(name)
        if flavor.handles(model):
            return flavor
    fallback = get_flavor("pyfunc")
    if fallback.handles(model):
        return fallback
    raise InvalidArgumentError(
        f"cannot log a {type(model).__name__}: it has no predict() and is not callable; "
        f"flavors: {', '.join(sorted(available(GROUP, FLAVORS)))}"
    )


__all__ = ["FLAVORS", "Flavor", "detect_flavor", "get_flavor"]
