"""Data quality of served traffic: missing values, out-of-range values, unseen categories,
missing and extra columns, against what the model expects.

The expectation is a kiln.data :class:`~kiln.data.schema.Schema` (ranges and category
sets), a reference :class:`~kiln.monitoring.profile.Profile` (its ranges widened by 10%
and its closed category sets, as :func:`~kiln.data.schema.infer_schema` does) or a model
:class:`~kiln.entities.Signature` (column names and types only). The checks themselves
are kiln.data's :func:`~kiln.data.validation.validate`; this module sums its findings up
per window::

    >>> import pandas as pd
    >>> from kiln.data import infer_schema
    >>> schema = infer_schema(pd.DataFrame({"age": [30, 40, 50], "plan": ["a", "b", "a"]}))
    >>> q = check_quality(pd.DataFrame({"age": [35, None, 900], "plan": ["a", "z", "b"]}), schema)
    >>> q.missing_values, q.out_of_range, q.unseen_categories["plan"]["values"]
    ({'age': 1}, {'age': 1}, ['z'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring.profile import check_saved

if TYPE_CHECKING:
    import pandas as pd

    from kiln.data.schema import Schema
    from kiln.entities import Signature
    from kiln.monitoring.profile import Profile

RESULT_TYPE = "kiln.monitoring.QualityResult"
RESULT_VERSION = 1
# model signature type -> kiln.data schema type
SIGNATURE_TYPES = {"double": "float", "float": "float", "long": "int", "integer": "int",
                   "boolean": "bool", "string": "string", "datetime": "datetime",
                   "binary": "string"}


@dataclass(frozen=True)
class QualityResult:
    """One window's data quality. ``issues`` are kiln.data anomalies as dicts (kind,
    severity, column, observed, expected, message); ``ok`` is false when any is an error."""

    rows: int
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    missing_values: dict[str, int] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    unseen_categories: dict[str, dict[str, Any]] = field(default_factory=dict)
    type_changes: dict[str, str] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    cells: int = 0

    @property
    def empty(self) -> bool:
        return self.rows == 0

    @property
    def ok(self) -> bool:
        return not any(i["severity"] == "error" for i in self.issues)

    @property
    def missing_rate(self) -> float | None:
        """Missing cells over all checked cells; ``None`` for an empty window."""
        return sum(self.missing_values.values()) / self.cells if self.cells else None

    @property
    def share_out_of_range(self) -> float | None:
        return sum(self.out_of_range.values()) / self.cells if self.cells else None

    @property
    def share_unseen(self) -> float | None:
        unseen = sum(int(u["count"]) for u in self.unseen_categories.values())
        return unseen / self.cells if self.cells else None

    def to_dict(self) -> dict[str, Any]:
        return {"type": RESULT_TYPE, "version": RESULT_VERSION, "rows": self.rows,
                "cells": self.cells, "ok": self.ok, "empty": self.empty,
                "missing_rate": self.missing_rate, "missing_columns": self.missing_columns,
                "extra_columns": self.extra_columns, "missing_values": self.missing_values,
                "out_of_range": self.out_of_range, "unseen_categories": self.unseen_categories,
                "type_changes": self.type_changes, "issues": self.issues}

    @classmethod
    def from_dict(cls, data: Any) -> QualityResult:
        data = check_saved(data, RESULT_TYPE, RESULT_VERSION, "quality result")
        keys = ("missing_columns", "extra_columns", "missing_values", "out_of_range",
                "unseen_categories", "type_changes", "issues")
        return cls(int(data["rows"]), **{k: data[k] for k in keys},
                   cells=int(data.get("cells", 0)))


def check_quality(df: pd.DataFrame, schema: Schema | Signature | Profile) -> QualityResult:
    """Check one window of traffic against ``schema`` (see the module docstring)."""
    import pandas as pd

    from kiln.data.columns import null_count
    from kiln.data.validation import validate

    if not isinstance(df, pd.DataFrame):
        raise InvalidArgumentError(
            f"check_quality takes a pandas DataFrame, not {type(df).__name__}")
    expected = as_schema(schema)
    report = validate(df, expected)
    present = [c.name for c in expected.columns if c.name in df.columns]
    missing_values = {name: n for name in present if (n := null_count(df[name]))}
    out: dict[str, Any] = {"missing_columns": [], "extra_columns": [], "out_of_range": {},
                           "unseen_categories": {}, "type_changes": {}}
    for a in report.anomalies:
        col = a.column or ""
        if a.kind == "missing_column":
            out["missing_columns"].append(col)
        elif a.kind == "extra_column":
            out["extra_columns"].append(col)
        elif a.kind == "out_of_range":
            out["out_of_range"][col] = int(a.details.get("count", 0))
        elif a.kind == "unseen_category":
            out["unseen_categories"][col] = {"count": int(a.details.get("count", 0)),
                                             "values": list(a.observed)}
        elif a.kind == "type_change":
            out["type_changes"][col] = str(a.observed)
    return QualityResult(rows=len(df), missing_values=missing_values,
                         issues=[_plain(a.to_dict()) for a in report.anomalies],
                         cells=len(df) * len(present), **out)


def as_schema(schema: Schema | Signature | Profile) -> Schema:
    """A kiln.data schema from any of the accepted expectations."""
    from kiln.data.schema import ColumnSchema, Schema
    from kiln.entities import Signature
    from kiln.monitoring.profile import Profile

    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, Profile):
        return schema.to_schema()
    if isinstance(schema, Signature):
        cols = [ColumnSchema(str(c["name"]), SIGNATURE_TYPES.get(str(c.get("type")), "string"))
                for c in schema.inputs if "name" in c]
        return Schema(cols)
    raise InvalidArgumentError(
        f"check_quality compares with a kiln.data Schema, a model Signature or a "
        f"monitoring Profile, not {type(schema).__name__}")


def _plain(value: Any) -> Any:
    """JSON-safe copies of anomaly fields (numpy scalars become Python ones)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value
