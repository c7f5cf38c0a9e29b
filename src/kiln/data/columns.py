"""Vectorized per-column summaries shared by validation and drift: codes, counts, samples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SAMPLE = 50_000  # rows compared for numeric drift (KS on a seeded sample of each side)


def null_count(s: pd.Series) -> int:
    """Missing values in ``s`` (O(1) for Arrow-backed columns)."""
    pa_array = getattr(s.array, "_pa_array", None)
    if pa_array is not None:
        return int(pa_array.null_count)
    return int(s.isna().sum())


def value_counts(s: pd.Series) -> tuple[list[Any], np.ndarray]:
    """``(values, counts)`` of the non-missing values of a categorical-like column."""
    import numpy as np

    pa_array = getattr(s.array, "_pa_array", None)
    if pa_array is not None:
        import pyarrow.compute as pc

        vc = pc.value_counts(pa_array)
        values = vc.field("values").to_pylist()
        counts = vc.field("counts").to_numpy(zero_copy_only=False).astype(np.int64)
        keep = [i for i, v in enumerate(values) if v is not None]
        return [values[i] for i in keep], counts[keep]
    codes, uniques = _factorize(s)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    return [_plain(u) for u in uniques], counts


def codes(s: pd.Series) -> np.ndarray:
    """Integer codes of a column's values (-1 for missing), for hashing rows."""
    import numpy as np

    pa_array = getattr(s.array, "_pa_array", None)
    if pa_array is not None:
        enc = pa_array.combine_chunks().dictionary_encode()
        idx = enc.indices.to_numpy(zero_copy_only=False)
        return np.where(np.isnan(idx), -1, idx).astype(np.int64) if idx.dtype.kind == "f" \
            else idx.astype(np.int64)
    return _factorize(s)[0].astype(np.int64)


def _factorize(s: pd.Series) -> tuple[np.ndarray, Any]:
    import pandas as pd

    codes_, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes_, uniques


def numeric(s: pd.Series) -> np.ndarray:
    """The column as float64 (missing values as NaN)."""
    import numpy as np

    if s.dtype.kind == "f":
        return s.to_numpy()
    return s.to_numpy(dtype="float64", na_value=np.nan)


def sample_index(n: int, size: int = SAMPLE) -> np.ndarray | None:
    """A seeded sorted sample of row positions, or ``None`` to use every row."""
    import numpy as np

    if n <= size:
        return None
    return np.sort(np.random.default_rng(0).choice(n, size=size, replace=False))


def row_hashes(df: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash per row (column values mixed with splitmix64), vectorized."""
    import numpy as np

    h = np.zeros(len(df), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for name in df.columns:
            s = df[name]
            if s.dtype.kind in "fiub":
                col = s.to_numpy()
                if col.dtype.kind == "f":
                    col = np.where(np.isnan(col), np.nan, col + 0.0).astype(np.float64)
                    col = col.view(np.uint64)
                else:
                    col = col.astype(np.int64).view(np.uint64)
            else:
                col = codes(s).view(np.uint64)
            h = _mix(h * np.uint64(0x100000001B3) + _mix(col))
    out: np.ndarray = h
    return out


def _mix(x: np.ndarray) -> np.ndarray:
    import numpy as np

    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: np.ndarray = x ^ (x >> np.uint64(31))
    return out


def duplicate_rows(df: pd.DataFrame) -> int:
    """How many rows repeat an earlier row."""
    import numpy as np

    if len(df) < 2:
        return 0
    h: np.ndarray = np.sort(row_hashes(df))
    return int(np.count_nonzero(h[1:] == h[:-1]))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, bool | int | float | str) else str(value)
