"""kiln side of the validation benchmark (run with kiln's python): prints one JSON line.

usage: python bench/kiln_data_validate.py ROWS [REPS]
The same 50 checks as the Great Expectations harness (not-null on 25 columns, ranges on
20, value sets on 5) through kiln.data.validate, the hand-written numpy floor on the same
frame, and a full validation with drift (1 reference vs 1 batch of ROWS x 25).
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

t0 = time.perf_counter()
import kiln.data  # noqa: E402
from kiln.data.schema import ColumnSchema, Schema, infer_schema  # noqa: E402
from kiln.data.validation import Thresholds, validate  # noqa: E402

import_s = time.perf_counter() - t0
sys.path.insert(0, str(Path(__file__).resolve().parent / "peers" / "data"))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from gx_data import BOUNDS, CAT_COLS, FLOAT_COLS, INT_COLS, LABELS, make_frame  # noqa: E402


def floor(df: pd.DataFrame) -> dict[tuple[str, str], int]:
    """gx_floor.py's checks, verbatim: unexpected counts per check."""
    out = {}
    for c in df.columns:
        out[("not_null", c)] = int(df[c].isna().sum())
    for c in FLOAT_COLS + INT_COLS:
        lo, hi = BOUNDS[c]
        v = df[c].to_numpy()
        out[("between", c)] = int(np.count_nonzero((v < lo) | (v > hi)))
    labels = set(LABELS)
    for c in CAT_COLS:
        s = df[c]
        out[("in_set", c)] = int((~s.isin(labels) & s.notna()).sum())
    return out


def schema_50() -> Schema:
    cols = []
    for c in FLOAT_COLS:
        cols.append(ColumnSchema(c, "float", nullable=False, min=BOUNDS[c][0], max=BOUNDS[c][1]))
    for c in INT_COLS:
        cols.append(ColumnSchema(c, "int", nullable=False, min=BOUNDS[c][0], max=BOUNDS[c][1]))
    for c in CAT_COLS:
        cols.append(ColumnSchema(c, "string", nullable=False, categories=list(LABELS)))
    return Schema(cols)


def timed(fn, reps: int) -> tuple[float, list[float], object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def main() -> None:
    rows = int(sys.argv[1])
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    df = make_frame(rows)
    schema = schema_50()
    strict = Thresholds(out_of_range=0)
    checks_s, checks_all, report = timed(lambda: validate(df, schema, thresholds=strict), reps)
    floor_s, floor_all, _ = timed(lambda: floor(df), reps)
    bad = make_frame(rows, inject=True)
    caught = {(a.kind, a.column) for a in validate(bad, schema, thresholds=strict).anomalies}
    # Full validation with drift: a batch against a reference of the same size.
    reference = df
    rng = np.random.default_rng(7)
    batch = make_frame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)
    batch["n0"] = batch["n0"] + 0.5
    batch["c0"] = np.array(LABELS, dtype=object)[rng.integers(0, 3, rows)]
    infer_s, _, inferred = timed(lambda: infer_schema(reference), 1)
    full_s, full_all, full = timed(
        lambda: validate(batch, inferred, reference=reference), reps)
    print(json.dumps({
        "rows": rows, "pandas": pd.__version__, "import_s": import_s,
        "checks_s": checks_s, "checks_all": checks_all, "checks_ok": report.ok,  # type: ignore[union-attr]
        "floor_s": floor_s, "floor_all": floor_all,
        "inject_caught": sorted(f"{k}:{c}" for k, c in caught),
        "infer_s": infer_s, "full_s": full_s, "full_all": full_all,
        "full_anomalies": sorted(f"{a.kind}:{a.column}" for a in full.anomalies),  # type: ignore[union-attr]
        "kiln_data": kiln.data.__name__,
    }))


if __name__ == "__main__":
    main()
