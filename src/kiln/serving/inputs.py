"""Request bodies → model input, checked against the model's signature.

Every accepted wire format is first normalized to a :class:`Payload` (records, columns or
positional rows); :func:`prepare` then checks it against one model's signature and builds
the model input: a float64 matrix for all-numeric signatures (cheap to merge into
micro-batches), a DataFrame checked by :func:`kiln.registry.signature.enforce` otherwise.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError, SignatureError
from kiln.registry.signature import NUMERIC, enforce

if TYPE_CHECKING:
    from kiln.entities import Signature


def is_label(value: Any) -> bool:
    """Whether ``value`` can be ground truth for a prediction: a number (not NaN), a string
    or a boolean. ``/feedback`` and the monitors' label checks both use it."""
    if isinstance(value, float):
        return not math.isnan(value)
    return isinstance(value, int | str | bool)


class PayloadError(InvalidArgumentError):
    """The body parses as JSON but is not one of the accepted shapes (HTTP 400)."""


class InputError(SignatureError):
    """The input does not match the model signature (HTTP 422); ``field`` names the column."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Payload:
    """A request's rows in one of three forms: ``records`` (list of objects),
    ``columns`` (name → list) or ``rows`` (list of lists, in ``names`` order or the
    signature's column order when ``names`` is None), or ``flat``: the rows as one
    row-major list of ``width`` values each (a v2 tensor), cheaper to convert."""

    records: list[Any] | None = None
    columns: dict[str, Any] | None = None
    rows: list[Any] | None = None
    names: list[str] | None = None
    flat: list[Any] | None = None
    body: bytes | None = None
    width: int = 0

    @property
    def n(self) -> int:
        if self.records is not None:
            return len(self.records)
        if self.flat is not None:
            return len(self.flat) // self.width if self.width else 0
        if self.rows is not None:
            return len(self.rows)
        assert self.columns is not None
        first: Any = next(iter(self.columns.values()), [])
        return len(first) if isinstance(first, list) else 1

    def as_json(self) -> Any:
        """What the prediction log stores for this request: the body as received (JSON
        text, not re-encoded on the request path) or the rows as a JSON-able object."""
        if self.body is not None:
            return self.body
        if self.records is not None:
            return {"records": self.records}
        if self.columns is not None:
            return {"columns": self.columns}
        return {"rows": self.row_lists(), "names": self.names}

    def row_lists(self) -> list[Any]:
        """The rows as lists (split from ``flat`` when that is how they came)."""
        if self.rows is not None:
            return self.rows
        flat, k = self.flat or [], self.width
        return [flat[r * k:(r + 1) * k] for r in range(self.n)]

    def key_value(self, name: str) -> Any:
        """The first row's value of field ``name`` (for sticky routing), or None."""
        try:
            if self.records is not None:
                return self.records[0].get(name) if self.records else None
            if self.columns is not None:
                col = self.columns.get(name)
                return col[0] if isinstance(col, list) and col else col
            if self.names and name in self.names:
                rows = self.row_lists()
                return rows[0][self.names.index(name)] if rows else None
        except (AttributeError, IndexError, TypeError):
            return None
        return None


@dataclass(frozen=True, slots=True)
class Prepared:
    """Checked model input: ``matrix`` (float64, rows x columns) or ``frame``."""

    n: int
    matrix: Any = None
    frame: Any = None


def _need_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{what} must be a JSON array; got {type(value).__name__}")
    return value


def _need_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be a JSON object; got {type(value).__name__}")
    return value


def from_predict(body: Any) -> Payload:
    """``{"records": [...]}`` or ``{"columns": {...}}`` (kiln's ``POST /predict``)."""
    body = _need_dict(body, "the body")
    if "records" in body:
        return _records(body["records"])
    if "columns" in body:
        return _columns(body["columns"])
    raise PayloadError('the body needs "records": [{column: value}, ...] or '
                       '"columns": {column: [values]}')


def from_mlflow(body: Any) -> Payload:
    """MLflow's ``/invocations`` JSON: dataframe_split, dataframe_records, instances, inputs."""
    body = _need_dict(body, "the body")
    if "dataframe_split" in body:
        split = _need_dict(body["dataframe_split"], "dataframe_split")
        data = _need_list(split.get("data"), "dataframe_split.data")
        names = split.get("columns")
        if names is not None:
            names = [str(c) for c in _need_list(names, "dataframe_split.columns")]
        return Payload(rows=data, names=names)
    if "dataframe_records" in body:
        return _records(body["dataframe_records"])
    for key in ("instances", "inputs"):
        if key in body:
            value = body[key]
            if isinstance(value, dict):
                return _columns(value)
            value = _need_list(value, key)
            if value and isinstance(value[0], dict):
                return _records(value)
            if value and not isinstance(value[0], list):
                value = [[v] for v in value]
            return Payload(rows=value)
    raise PayloadError("the body needs one of dataframe_split, dataframe_records, instances, "
                       "inputs")


V2_TYPES = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
            "FP16", "FP32", "FP64", "BYTES"}


def from_v2(body: Any) -> Payload:
    """Open Inference Protocol v2: one tensor per column (named like the column), or one
    ``[rows, columns]`` tensor in signature column order."""
    body = _need_dict(body, "the body")
    tensors = _need_list(body.get("inputs"), "inputs")
    if not tensors:
        raise PayloadError("inputs is empty; send at least one tensor")
    parsed: list[tuple[str, list[int], list[Any]]] = []
    for i, tensor in enumerate(tensors):
        tensor = _need_dict(tensor, f"inputs[{i}]")
        name, shape, data = tensor.get("name"), tensor.get("shape"), tensor.get("data")
        dtype = tensor.get("datatype")
        if not isinstance(name, str):
            raise PayloadError(f"inputs[{i}].name must be a string")
        if dtype not in V2_TYPES:
            raise PayloadError(f"inputs[{i}].datatype {dtype!r} is not one of "
                               f"{', '.join(sorted(V2_TYPES))}")
        if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
            raise PayloadError(f"inputs[{i}].shape must be a list of non-negative integers")
        data = _need_list(data, f"inputs[{i}].data")
        if data and isinstance(data[0], list):
            data = [v for row in data for v in (row if isinstance(row, list) else [row])]
        if math.prod(shape) != len(data):
            raise PayloadError(f"inputs[{i}] ({name!r}) has shape {shape} but {len(data)} values")
        parsed.append((name, shape, data))
    if len(parsed) == 1 and len(parsed[0][1]) == 2 and parsed[0][1][1] != 1:
        _, (_n, k), data = parsed[0]
        return Payload(flat=data, width=k)
    return Payload(columns={name: data for name, _, data in parsed})


def _records(value: Any) -> Payload:
    records = _need_list(value, "records")
    for i, rec in enumerate(records[:1] + records[-1:]):
        if not isinstance(rec, dict):
            raise PayloadError(f"record {i} must be a JSON object of column: value")
    return Payload(records=records)


def _columns(value: Any) -> Payload:
    cols = _need_dict(value, "columns")
    lengths = {len(v) if isinstance(v, list) else -1 for v in cols.values()}
    if -1 in lengths:
        bad = next(k for k, v in cols.items() if not isinstance(v, list))
        raise PayloadError(f"column {bad!r} must be a JSON array of values")
    if len(lengths) > 1:
        raise PayloadError("the columns have different lengths: "
                           + ", ".join(f"{k}={len(v)}" for k, v in cols.items()))
    return Payload(columns=cols)


# -- checking against a signature -------------------------------------------------------
_MATRIX = NUMERIC | {"boolean"}
_columns_of: dict[int, tuple[Signature, list[str], bool]] = {}


def _signature_columns(signature: Signature | None) -> tuple[list[str], bool]:
    """The input columns and whether they all fit a float matrix (memoized per signature:
    this runs on every request)."""
    if signature is None:
        return [], False
    hit = _columns_of.get(id(signature))
    if hit is not None and hit[0] is signature:
        return hit[1], hit[2]
    cols = signature.input_columns
    matrix = bool(cols) and all(c.get("type") in _MATRIX for c in signature.inputs
                                if "name" in c)
    if len(_columns_of) > 1024:
        _columns_of.clear()
    _columns_of[id(signature)] = (signature, cols, matrix)
    return cols, matrix


def prepare(payload: Payload, signature: Signature | None, *, allow_nan: bool = False
            ) -> Prepared:
    """Check ``payload`` against ``signature`` and build the model input."""
    cols, matrix = _signature_columns(signature)
    if matrix:
        return _numeric(payload, cols, allow_nan)
    return Prepared(payload.n, frame=_frame(payload, signature, cols, allow_nan))


def _numeric(payload: Payload, cols: list[str], allow_nan: bool) -> Prepared:
    import numpy as np

    if payload.records is not None:
        try:
            pick = operator.itemgetter(*cols)
            table = [pick(rec) for rec in payload.records] if len(cols) > 1 else [
                [pick(rec)] for rec in payload.records]
        except KeyError as exc:
            raise InputError(f"input is missing column {exc.args[0]!r}", str(exc.args[0])
                             ) from None
        except TypeError:
            bad = next(i for i, r in enumerate(payload.records) if not isinstance(r, dict))
            raise PayloadError(f"record {bad} must be a JSON object of column: value") from None
    elif payload.columns is not None:
        missing = [c for c in cols if c not in payload.columns]
        if missing:
            raise InputError(f"input is missing column {missing[0]!r}", missing[0])
        table = [payload.columns[c] for c in cols]
    else:
        if payload.flat is not None and payload.names is None and payload.width == len(cols):
            try:
                flat = np.fromiter(payload.flat, dtype=np.float64, count=len(payload.flat))
                return _checked(flat.reshape(payload.n, len(cols)), cols, allow_nan)
            except (ValueError, TypeError):
                pass  # locate the bad value below
        table = _positional(payload, cols)
    try:
        matrix = np.array(table, dtype=np.float64)
    except (ValueError, TypeError):
        raise _locate_bad_value(payload, cols, table) from None
    if payload.columns is not None:
        matrix = matrix.T if matrix.ndim == 2 else matrix.reshape(len(cols), -1).T
    if matrix.ndim != 2 or matrix.shape[1] != len(cols):
        raise InputError(f"input must be a table with columns {', '.join(cols)}")
    return _checked(matrix, cols, allow_nan)


def _checked(matrix: Any, cols: list[str], allow_nan: bool) -> Prepared:
    import numpy as np

    if not allow_nan:
        bad = ~np.isfinite(matrix)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            raise InputError(f"column {cols[col]!r} is null, NaN or infinite in row {row}; "
                             "this deployment does not accept missing values", cols[col])
    return Prepared(matrix.shape[0], matrix=np.ascontiguousarray(matrix))


def _positional(payload: Payload, cols: list[str]) -> list[Any]:
    rows = payload.row_lists()
    if payload.names is not None:
        missing = [c for c in cols if c not in payload.names]
        if missing:
            raise InputError(f"input is missing column {missing[0]!r}", missing[0])
        if payload.names != cols:
            idx = [payload.names.index(c) for c in cols]
            try:
                return [[r[i] for i in idx] for r in rows]
            except (IndexError, TypeError, KeyError):
                raise PayloadError("every row must be an array with one value per column"
                                   ) from None
        return rows
    for i, row in enumerate(rows[:1] + rows[-1:]):
        if not isinstance(row, list) or len(row) != len(cols):
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise InputError(f"row {i} has {got} values; this model takes {len(cols)} "
                             f"columns: {', '.join(cols)}")
    return rows


def _locate_bad_value(payload: Payload, cols: list[str], table: list[Any]) -> Exception:
    by_column = payload.columns is not None
    for i, line in enumerate(table):
        if not isinstance(line, list | tuple):
            if by_column:
                return PayloadError(f"column {cols[i]!r} must be a JSON array of values")
            return PayloadError(f"row {i} must be an array of {len(cols)} values")
        if not by_column and len(line) != len(cols):
            return InputError(f"row {i} has {len(line)} values; this model takes {len(cols)} "
                              f"columns: {', '.join(cols)}")
        for j, value in enumerate(line):
            if value is None or isinstance(value, bool):
                continue
            try:
                float(value)
            except (ValueError, TypeError):
                col = cols[i] if by_column else cols[j]
                return InputError(f"column {col!r} must be a number; got {value!r}", col)
    if by_column:
        return PayloadError("the columns have different lengths")
    return PayloadError("the rows have different lengths")


def _frame(payload: Payload, signature: Signature | None, cols: list[str], allow_nan: bool
           ) -> Any:
    import pandas as pd

    try:
        if payload.records is not None:
            frame = pd.DataFrame.from_records(payload.records)
        elif payload.columns is not None:
            frame = pd.DataFrame(payload.columns)
        else:
            names = payload.names or (cols or None)
            frame = pd.DataFrame(payload.row_lists(), columns=names)
    except (ValueError, TypeError) as exc:
        raise PayloadError(f"the input cannot be read as a table: {exc}") from None
    try:
        out = enforce(signature, frame)
    except SignatureError as exc:
        msg = str(exc)
        field = msg.split("'")[1] if msg.count("'") >= 2 else None
        raise InputError(msg, field) from None
    if not allow_nan and cols:
        nulls = out.isna().any()
        if nulls.any():
            col = str(nulls[nulls].index[0])
            raise InputError(f"column {col!r} is null or NaN; this deployment does not accept "
                             "missing values", col)
    return out
