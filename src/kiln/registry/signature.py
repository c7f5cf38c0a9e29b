"""Model signatures: inferred from an input example, enforced on prediction input."""

from __future__ import annotations

from typing import Any

from kiln.entities import Signature
from kiln.exceptions import SignatureError

NUMERIC = {"double", "float", "long", "integer"}


def _column_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer" if getattr(dtype, "itemsize", 8) <= 4 else "long"
    if kind == "f":
        return "float" if getattr(dtype, "itemsize", 8) <= 4 else "double"
    if kind == "M":
        return "datetime"
    if kind in "SV":
        return "binary"
    return "string"


def _spec(data: Any, default_name: str) -> list[dict[str, Any]]:
    import numpy as np
    import pandas as pd

    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if isinstance(data, pd.Series):
        return [{"name": str(data.name or default_name), "type": _column_type(data.dtype)}]
    if isinstance(data, pd.DataFrame):
        return [{"name": str(c), "type": _column_type(t)} for c, t in data.dtypes.items()]
    arr = np.asarray(data)
    if arr.ndim == 1:
        return [{"name": default_name, "type": _column_type(arr.dtype)}]
    return [{"type": "tensor", "dtype": str(arr.dtype), "shape": [-1, *arr.shape[1:]]}]


def infer_signature(model_input: Any, model_output: Any = None) -> Signature:
    """The signature of a model that maps ``model_input`` to ``model_output``.

    >>> import pandas as pd
    >>> infer_signature(pd.DataFrame({"age": [31], "plan": ["pro"]}), [0]).inputs
    [{'name': 'age', 'type': 'long'}, {'name': 'plan', 'type': 'string'}]
    """
    outputs = [] if model_output is None else _spec(model_output, "prediction")
    return Signature(inputs=_spec(model_input, "input"), outputs=outputs)


def enforce(signature: Signature | None, data: Any) -> Any:
    """Check ``data`` against the signature's columns; return it with columns in order.

    Missing columns and values of the wrong type raise
    :class:`~kiln.exceptions.SignatureError` naming the column.
    """
    if signature is None or not signature.input_columns:
        return data
    import pandas as pd

    if isinstance(data, dict | list):
        try:
            data = pd.DataFrame(data)
        except (ValueError, TypeError) as exc:
            raise SignatureError(f"input cannot be read as a table: {exc}") from None
    if not isinstance(data, pd.DataFrame):
        raise SignatureError(
            f"input is a {type(data).__name__}; this model takes a table with columns "
            f"{', '.join(signature.input_columns)}"
        )
    missing = [c["name"] for c in signature.inputs if c["name"] not in data.columns]
    if missing:
        col = next(c for c in signature.inputs if c["name"] == missing[0])
        raise SignatureError(
            f"input is missing column {missing[0]!r} ({col['type']})"
            + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
        )
    out = data[signature.input_columns]
    for col in signature.inputs:
        series = out[col["name"]]
        if col["type"] in NUMERIC and _column_type(series.dtype) not in NUMERIC | {"boolean"}:
            converted = pd.to_numeric(series, errors="coerce")
            bad = series[converted.isna() & series.notna()]
            if len(bad):
                raise SignatureError(
                    f"column {col['name']!r} must be {col['type']}; got {bad.iloc[0]!r}"
                )
            out = out.assign(**{col["name"]: converted})
    return out
