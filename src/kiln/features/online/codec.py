"""How entity keys and feature rows are written into an online store (shared by backends).

A key is the join key values, each as decimal (integers) or JSON (strings),
joined by ``\\x1f``; a value is the JSON list ``[view_version, f1, f2, ...]`` in
the order of that version's features, so a reader always knows which
definition wrote a row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kiln.exceptions import InvalidArgumentError

SEP = "\x1f"


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


def encode_value(version: int, values: Sequence[Any]) -> str:
    return json.dumps([version, *values], separators=(",", ":"))


def decode_values(payloads: Sequence[str]) -> list[list[Any]]:
    """Decode many values in one ``json.loads`` call (much faster than one call each)."""
    if not payloads:
        return []
    decoded: list[list[Any]] = json.loads("[" + ",".join(payloads) + "]")
    return decoded
