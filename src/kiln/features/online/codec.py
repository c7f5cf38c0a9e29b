"""How entity keys and feature rows are written into an online store (shared by backends).

A key is the join key values, each as decimal (integers) or JSON (strings),
joined by ``\\x1f``. A value starts with the version of the view definition that
wrote it (so a reader knows the feature order) and a format byte: views whose
features are all floats are packed as little-endian float64 (nulls as NaN), which
decodes an order of magnitude faster than JSON; other views are a JSON list.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import pyarrow as pa

SEP = "\x1f"
HEADER = struct.Struct("<IB")  # view version, format
JSON, FLOAT64 = 0, 1
FLOAT_TYPES = ("float32", "float64")
_FLOATS: dict[int, struct.Struct] = {}


def encode_scalar(value: Any) -> str:
    """One join key value as text; numpy scalars and integral floats count as ints."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return json.dumps(value)
    if hasattr(value, "item") and not isinstance(value, list | dict):
        return encode_scalar(value.item())
    if kind is float and value.is_integer():
        return str(int(value))
    raise InvalidArgumentError(
        f"entity key value {value!r} ({kind.__name__}) is not accepted; use an int or a string"
    )


def encode_keys(columns: Sequence[Sequence[Any]]) -> list[str]:
    """Keys for rows given column-wise (one sequence per join key)."""
    if len(columns) == 1:
        return [encode_scalar(v) for v in columns[0]]
    return [SEP.join(encode_scalar(v) for v in row) for row in zip(*columns, strict=True)]


def encode_batch(version: int, dtypes: Sequence[str], columns: Sequence[pa.Array]
                 ) -> list[bytes]:
    """Values for a batch of rows given as Arrow columns (features in view order)."""
    import numpy as np

    if all(d in FLOAT_TYPES for d in dtypes):
        header = HEADER.pack(version, FLOAT64)
        matrix = np.empty((len(columns[0]) if columns else 0, len(columns)), dtype="<f8")
        for j, col in enumerate(columns):
            matrix[:, j] = col.to_numpy(zero_copy_only=False)
        return [header + row.tobytes() for row in matrix]
    header = HEADER.pack(version, JSON)
    dumps = json.dumps
    return [header + dumps(list(vals), separators=(",", ":")).encode()
            for vals in zip(*(c.to_pylist() for c in columns), strict=True)]


def decode_values(payloads: Sequence[bytes]) -> list[tuple[int, Sequence[Any]]]:
    """``(version, values)`` for each payload; JSON ones are decoded in one call."""
    out: list[tuple[int, Sequence[Any]]] = []
    pending: list[int] = []
    unpack_header = HEADER.unpack_from
    size = HEADER.size
    for payload in payloads:
        version, fmt = unpack_header(payload)
        if fmt == FLOAT64:
            n = (len(payload) - size) >> 3
            unpacker = _FLOATS.get(n) or _FLOATS.setdefault(n, struct.Struct(f"<{n}d"))
            out.append((version, unpacker.unpack_from(payload, size)))
        else:
            pending.append(len(out))
            out.append((version, ()))
    if pending:
        texts = b",".join(payloads[i][size:] for i in pending)
        for i, values in zip(pending, json.loads(b"[" + texts + b"]"), strict=True):
            out[i] = (out[i][0], values)
    return out

