"""Vectorized per-column summaries shared by validation and drift: codes, counts, samples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np
    import pandas as pd

SAMPLE = 20_000  # rows compared for numeric drift (KS on a seeded sample of each side)


def null_count(s: pd.Series) -> int:
    """Missing values in ``s`` (O(1) for Arrow-backed columns)."""
    pa_array = getattr(s.array, "_pa_array", None)
    if pa_array is not None:
        return int(pa_array.null_count)
    return int(s.isna().sum())


def encode(s: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """``(codes, values)``: each row's index into ``values`` (-1 for missing), one hashing
    pass (Arrow's dictionary encoding for Arrow-backed columns, else ``pd.factorize``)."""
    import numpy as np
    import pandas as pd

    pa_array = getattr(s.array, "_pa_array", None)
    if pa_array is not None:
        enc = pa_array.combine_chunks().dictionary_encode()
        codes_ = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes_, enc.dictionary.to_pylist()
    codes_, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes_.astype(np.int64), [_plain(u) for u in uniques]


def counts_from_codes(codes_: np.ndarray, values: list[Any]) -> tuple[list[Any], np.ndarray]:
    """``(values, counts)`` of the non-missing values, from :func:`encode`'s output."""
    import numpy as np

    counts = np.bincount(codes_[codes_ >= 0], minlength=len(values)).astype(np.int64)
    keep = [i for i, v in enumerate(values) if v is not None and counts[i] > 0]
    return [values[i] for i in keep], counts[keep]


def value_counts(s: pd.Series) -> tuple[list[Any], np.ndarray]:
    """``(values, counts)`` of the non-missing values of a categorical-like column."""
    import numpy as np

    pa_array = getattr(s.array, "_pa_array", None)
    if pa_array is not None:
        import pyarrow.compute as pc

        vc = pc.value_counts(pa_array)
        found = vc.field("values").to_pylist()
        n = vc.field("counts").to_numpy(zero_copy_only=False).astype(np.int64)
        keep = [i for i, v in enumerate(found) if v is not None]
        return [found[i] for i in keep], n[keep]
    return counts_from_codes(*encode(s))


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


def row_hashes(df: pd.DataFrame, codes: Mapping[str, np.ndarray] | None = None
               ) -> np.ndarray:
    """A 64-bit hash per row: column bits folded FNV-style, then mixed (splitmix64).
    ``codes`` holds :func:`encode` codes already computed for some columns."""
    import numpy as np

    h = np.full(len(df), 0xCBF29CE484222325, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    with np.errstate(over="ignore"):
        for name in df.columns:
            s = df[name]
            if s.dtype.kind in "fiub":
                col = s.to_numpy()
                col = col.view(np.uint64) if col.dtype.itemsize == 8 else \
                    col.astype(np.int64).view(np.uint64)
            else:
                known = codes.get(str(name)) if codes is not None else None
                col = (known if known is not None else encode(s)[0]).view(np.uint64)
            h ^= col
            h *= prime
    return _mix(h)


def duplicate_rows(df: pd.DataFrame, codes: Mapping[str, np.ndarray] | None = None) -> int:
    """How many rows repeat an earlier row."""
    import numpy as np

    if len(df) < 2:
        return 0
    h: np.ndarray = np.sort(row_hashes(df, codes))
    return int(np.count_nonzero(h[1:] == h[:-1]))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, bool | int | float | str) else str(value)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: spreads every input bit over the whole word."""
    import numpy as np

    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        out: np.ndarray = x ^ (x >> np.uint64(31))
    return out
