"""Data versions and data validation.

Version a file or folder, get it back anywhere, and check new batches::

    import kiln.data
    dv = kiln.data.add("data/train.parquet", name="train")      # writes train.parquet.kiln
    df = kiln.data.load("train@latest")                          # a pandas DataFrame
    schema = kiln.data.infer_schema(df)
    report = kiln.data.validate(new_batch, schema, reference="train@1")
    assert report.ok, report.errors

Everything is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "add": "kiln.data.api",
    "load": "kiln.data.api",
    "get": "kiln.data.api",
    "pull": "kiln.data.api",
    "status": "kiln.data.api",
    "versions": "kiln.data.api",
    "diff": "kiln.data.api",
    "validate": "kiln.data.api",
    "infer_schema": "kiln.data.schema",
    "Schema": "kiln.data.schema",
    "ColumnSchema": "kiln.data.schema",
    "Anomaly": "kiln.data.validation",
    "ValidationReport": "kiln.data.validation",
    "Thresholds": "kiln.data.validation",
    "DataDiff": "kiln.data.compare",
    "DataStatus": "kiln.data.client",
}

__all__ = [
    "Anomaly",
    "ColumnSchema",
    "DataDiff",
    "DataStatus",
    "Schema",
    "Thresholds",
    "ValidationReport",
    "add",
    "diff",
    "get",
    "infer_schema",
    "load",
    "pull",
    "status",
    "validate",
    "versions",
]

if TYPE_CHECKING:
    from kiln.data.api import add, diff, get, load, pull, status, validate, versions
    from kiln.data.client import DataStatus
    from kiln.data.compare import DataDiff
    from kiln.data.schema import ColumnSchema, Schema, infer_schema
    from kiln.data.validation import Anomaly, Thresholds, ValidationReport


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
