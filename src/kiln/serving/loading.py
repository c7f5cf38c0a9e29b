"""How serving gets a model: the one place the server and batch inference load one, and
the check whether a model takes a plain float matrix (no DataFrame on the request path)."""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.registry.client import RegistryClient
    from kiln.registry.model import LoadedModel

# scikit-learn warns when a model fitted on a DataFrame gets an array; serving passes the
# array only after checking that the model answers the same for it (see takes_array)
_NAMES_WARNING = "X does not have valid feature names"


def load_model_for_serving(ws: RegistryClient, uri: str) -> LoadedModel:
    """The model ``uri`` (``models:/NAME/VERSION``) as the server and ``kiln predict`` run
    it. Every model serving loads comes through here: a checked ONNX conversion of the
    version is preferred when one exists (:mod:`kiln.registry.inference`)."""
    from kiln.registry.inference import load_for_inference

    name, _, version = uri.removeprefix("models:/").rpartition("/")
    return load_for_inference(ws, name, int(version))


def takes_array(model: LoadedModel, columns: list[str]) -> bool:
    """Whether ``model.raw.predict`` gives the same answer for a float matrix in signature
    column order as for the DataFrame: then serving skips building DataFrames (a
    DataFrame costs scikit-learn ~1 ms of checks per call, the matrix ~50 us)."""
    import numpy as np

    if not columns or not callable(getattr(model.raw, "predict", None)):
        return False
    probe = np.linspace(-1.0, 1.0, 3 * len(columns)).reshape(3, len(columns))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from_array = np.asarray(model.raw.predict(probe))
            if "pandas" not in sys.modules:
                # loading the model did not need pandas, so it cannot tell a DataFrame
                # from an array either; keep pandas (~100 MB) out of the server
                return from_array.shape[:1] == (3,)
            import pandas as pd

            from_frame = model.raw.predict(pd.DataFrame(probe, columns=columns))
        from_frame = np.asarray(getattr(from_frame, "to_numpy", lambda: from_frame)())
        same = from_array.shape == from_frame.shape and bool(
            np.array_equal(from_array, from_frame, equal_nan=from_array.dtype.kind == "f"))
    except Exception:
        return False
    if same:
        warnings.filterwarnings("ignore", message=_NAMES_WARNING, category=UserWarning)
    return same


def predict_array(model: LoadedModel, data: Any) -> Any:
    """``model``'s predictions for ``data`` as a numpy array."""
    import numpy as np

    out = model.raw.predict(data)
    values = getattr(out, "to_numpy", None)
    return np.asarray(values() if values is not None else out)
