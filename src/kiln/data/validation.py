"""Data validation: check a DataFrame against a schema and a reference, report anomalies.

>>> import pandas as pd
>>> from kiln.data import infer_schema, validate
>>> ref = pd.DataFrame({"age": [30, 40, 50, 60], "plan": ["a", "b", "a", "b"]})
>>> report = validate(pd.DataFrame({"age": [35, 900], "plan": ["a", "z"]}), infer_schema(ref))
>>> sorted(a.kind for a in report.errors)
['out_of_range', 'unseen_category']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from kiln.data.schema import ColumnSchema, Schema, column_type, infer_schema
from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Anomaly:
    """One finding: ``kind`` (missing_column, extra_column, type_change, out_of_range,
    unseen_category, unexpected_nulls, missing_rate_up, duplicates, drift), its
    ``severity`` (error or warning), the column, what was observed and what was expected.

    Out-of-range values are an error when more than ``Thresholds.out_of_range`` of the
    rows (1%) have them, a warning for a few outliers; use ``Thresholds(out_of_range=0)``
    to fail on any."""

    kind: str
    severity: str
    column: str | None
    observed: Any
    expected: Any
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "column": self.column,
                "observed": self.observed, "expected": self.expected, "message": self.message,
                "details": self.details}


@dataclass
class DriftResult:
    """A column's distribution compared with the reference."""

    column: str
    test: str  # "ks" or "chi2+psi"
    statistic: float
    p_value: float
    drifted: bool
    psi: float | None = None


@dataclass
class ValidationReport:
    """What :func:`validate` found; ``ok`` is false when any anomaly is an error."""

    rows: int
    columns: int
    anomalies: list[Anomaly] = field(default_factory=list)
    drift: list[DriftResult] = field(default_factory=list)

    @property
    def errors(self) -> list[Anomaly]:
        return [a for a in self.anomalies if a.severity == ERROR]

    @property
    def warnings(self) -> list[Anomaly]:
        return [a for a in self.anomalies if a.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "rows": self.rows, "columns": self.columns,
            "errors": len(self.errors), "warnings": len(self.warnings),
            "anomalies": [a.to_dict() for a in self.anomalies],
            "drift": [d.__dict__ for d in self.drift],
        }


@dataclass(frozen=True)
class Thresholds:
    """When a difference becomes an anomaly."""

    ks: float = 0.1  # numeric drift: KS statistic at least this (and p < alpha)
    psi: float = 0.2  # categorical drift: population stability index at least this
    alpha: float = 0.01
    missing_rate: float = 0.01  # missing share may grow this much before a warning
    duplicates: float = 0.01  # duplicate share may grow this much before a warning
    out_of_range: float = 0.01  # up to this share of values outside the range: a warning


def validate(df: pd.DataFrame, schema: Schema | None = None, *,
             reference: pd.DataFrame | None = None,
             thresholds: Thresholds | None = None) -> ValidationReport:
    """Check ``df`` against ``schema`` (default: inferred from ``reference``) and, given
    a ``reference`` frame, its distributions against the reference's (drift)."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InvalidArgumentError(f"validate takes a pandas DataFrame, not {type(df).__name__}")
    if schema is None:
        if reference is None:
            raise InvalidArgumentError("validate needs a schema, a reference, or both")
        schema = infer_schema(reference)
    th = thresholds or Thresholds()
    report = ValidationReport(rows=len(df), columns=df.shape[1])
    present = {str(c) for c in df.columns}
    counted: dict[str, tuple[list[Any], np.ndarray]] = {}  # value counts, reused for drift
    codes: dict[str, np.ndarray] = {}  # dictionary codes, reused for duplicates
    checked = [col for col in schema.columns if col.name in present]
    # Columns are independent and numpy/Arrow release the GIL: checked side by side, the
    # anomalies are then reported in schema order.
    found = _map(lambda col: _check_column(df[col.name], col, th, counted, codes), checked)
    per_column = dict(zip([c.name for c in checked], found, strict=True))
    for col in schema.columns:
        if col.name in per_column:
            report.anomalies.extend(per_column[col.name])
        else:
            report.anomalies.append(Anomaly(
                "missing_column", ERROR, col.name, "absent", col.type,
                f"column {col.name!r} is missing"))
    expected = set(schema.names)
    for name in df.columns:
        if str(name) not in expected:
            report.anomalies.append(Anomaly(
                "extra_column", WARNING, str(name), column_type(df[name]), "absent",
                f"column {name!r} is not in the schema"))
    if schema.duplicate_fraction is not None and len(df) > 1:
        from kiln.data.columns import duplicate_rows

        dup = duplicate_rows(df, codes) / len(df)
        if dup > schema.duplicate_fraction + th.duplicates:
            report.anomalies.append(Anomaly(
                "duplicates", WARNING, None, round(dup, 6), schema.duplicate_fraction,
                f"{dup:.2%} of rows are duplicates (expected at most "
                f"{schema.duplicate_fraction + th.duplicates:.2%})"))
    if reference is not None:
        _drift(report, df, reference, schema, th, counted)
    return report


_T = TypeVar("_T")
_R = TypeVar("_R")


def _map(fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``[fn(x) for x in items]`` on a small thread pool (in order)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    workers = min(4, os.cpu_count() or 1, len(items))
    if workers <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def _check_column(s: pd.Series, col: ColumnSchema, th: Thresholds,
                  counted: dict[str, tuple[list[Any], np.ndarray]],
                  codes: dict[str, np.ndarray]) -> list[Anomaly]:
    import numpy as np

    from kiln.data.columns import counts_from_codes, encode, null_count, numeric

    n = len(s)
    kind = column_type(s)
    found: list[Anomaly] = []
    add = found.append
    nulls = null_count(s)
    if nulls and not col.nullable:
        add(Anomaly("unexpected_nulls", ERROR, col.name, nulls, 0,
                    f"column {col.name!r} has {nulls} missing values, expected none"))
    elif n and nulls / n > col.null_fraction + th.missing_rate:
        add(Anomaly("missing_rate_up", WARNING, col.name, round(nulls / n, 6),
                    col.null_fraction,
                    f"column {col.name!r} is {nulls / n:.2%} missing, expected "
                    f"{col.null_fraction:.2%}"))
    if kind != col.type:
        widened = {col.type, kind} == {"int", "float"}
        add(Anomaly("type_change", WARNING if widened else ERROR, col.name, kind, col.type,
                    f"column {col.name!r} is {kind}, expected {col.type}"))
        if not widened:
            return found  # its values cannot be compared with the expected ones
    if (col.min is not None or col.max is not None) and kind in ("int", "float", "bool"):
        v = numeric(s)
        lo = -math.inf if col.min is None else col.min
        hi = math.inf if col.max is None else col.max
        bad = int(np.count_nonzero((v < lo) | (v > hi)))
        if bad:
            severity = ERROR if bad > th.out_of_range * n else WARNING
            add(Anomaly("out_of_range", severity, col.name,
                        [_f(np.nanmin(v)), _f(np.nanmax(v))], [col.min, col.max],
                        f"column {col.name!r} has {bad} values outside "
                        f"[{col.min}, {col.max}]", {"count": bad}))
    if col.categories is not None and kind not in ("int", "float", "datetime"):
        codes[col.name], uniques = encode(s)  # one hashing pass, shared with duplicates
        values, counts = counted[col.name] = counts_from_codes(codes[col.name], uniques)
        allowed = set(col.categories)
        unseen = [(v, int(c)) for v, c in zip(values, counts, strict=True) if v not in allowed]
        if unseen:
            total = sum(c for _, c in unseen)
            shown = sorted((v for v, _ in unseen), key=str)[:10]
            add(Anomaly("unseen_category", ERROR, col.name, shown, col.categories,
                        f"column {col.name!r} has {total} values outside its category set: "
                        f"{', '.join(map(repr, shown))}", {"count": total}))
    return found


def _drift(report: ValidationReport, df: pd.DataFrame, ref: pd.DataFrame, schema: Schema,
           th: Thresholds, counted: dict[str, tuple[list[Any], np.ndarray]]) -> None:
    from kiln.data.columns import numeric, sample_index, value_counts

    idx_cur, idx_ref = sample_index(len(df)), sample_index(len(ref))
    ref_cols = {str(c) for c in ref.columns}

    def test(col: ColumnSchema) -> DriftResult | None:
        cur_s, ref_s = df[col.name], ref[col.name]
        kind = column_type(cur_s)
        if kind in ("int", "float") and column_type(ref_s) in ("int", "float"):
            a, b = numeric(cur_s), numeric(ref_s)
            a = a if idx_cur is None else a[idx_cur]
            b = b if idx_ref is None else b[idx_ref]
            d, p = ks_2samp(a, b)
            return DriftResult(col.name, "ks", d, p, d >= th.ks and p < th.alpha)
        if kind in ("string", "category", "bool"):
            cur_counts = counted.get(col.name) or value_counts(cur_s)
            return _categorical_drift(col.name, cur_counts, value_counts(ref_s), th)
        return None

    tested = [c for c in schema.columns if c.name in df.columns and c.name in ref_cols]
    for result in _map(test, tested):
        if result is None:
            continue
        report.drift.append(result)
        if result.drifted:
            observed = result.statistic if result.psi is None else result.psi
            what = "KS statistic" if result.test == "ks" else "PSI"
            limit = th.ks if result.test == "ks" else th.psi
            report.anomalies.append(Anomaly(
                "drift", WARNING, result.column, round(observed, 4), f"< {limit}",
                f"column {result.column!r} drifted from the reference: {what} {observed:.3f} "
                f"(p={result.p_value:.2g})",
                {"test": result.test, "statistic": result.statistic, "p_value": result.p_value}))


def ks_2samp(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and asymptotic p-value (NaNs dropped)."""
    import numpy as np
    from scipy.special import kolmogorov

    a = np.sort(a[~np.isnan(a)])
    b = np.sort(b[~np.isnan(b)])
    if not a.size or not b.size:
        return 0.0, 1.0
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    d = float(np.max(np.abs(cdf_a - cdf_b)))
    en = round(a.size * b.size / (a.size + b.size))
    return d, float(min(1.0, max(0.0, kolmogorov(np.sqrt(max(en, 1)) * d))))


def _categorical_drift(name: str, cur: tuple[list[Any], np.ndarray],
                       ref: tuple[list[Any], np.ndarray], th: Thresholds) -> DriftResult:
    import numpy as np
    from scipy.special import chdtrc

    keys = list(dict.fromkeys([*ref[0], *cur[0]]))
    pos = {k: i for i, k in enumerate(keys)}
    table = np.zeros((2, len(keys)), dtype=np.float64)
    for row, (values, counts) in enumerate((ref, cur)):
        for v, c in zip(values, counts, strict=True):
            table[row, pos[v]] += c
    if table.sum(axis=1).min() == 0 or len(keys) < 2:
        return DriftResult(name, "chi2+psi", 0.0, 1.0, False, 0.0)
    p_ref = np.clip(table[0] / table[0].sum(), 1e-4, None)
    p_cur = np.clip(table[1] / table[1].sum(), 1e-4, None)
    psi = float(np.sum((p_cur - p_ref) * np.log(p_cur / p_ref)))
    observed = table[:, table.sum(axis=0) > 0]
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0) / observed.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    p = float(chdtrc(observed.shape[1] - 1, chi2))
    return DriftResult(name, "chi2+psi", chi2, p, psi >= th.psi and p < th.alpha,
                       round(psi, 6))


def _f(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) else float(f"{x:.6g}")
