"""How one column becomes a :class:`~kiln.monitoring.profile.ColumnProfile`, and how two
merge. Numbers: one sort, then ``searchsorted`` of the sketch points into the sorted values."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kiln.monitoring.profile import (
    NUMERIC_FREQUENCIES,
    SMALL_SAMPLE,
    ColumnProfile,
    sorted_finite,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Extra grid points in both tails, where equal-mass intervals are widest: drift measured
# on the grid stays close to the exact figure when a window moves mass into a tail.
_TAIL = [m * 10.0 ** -e for e in range(2, 6) for m in (1, 2, 5)]
TAIL_PROBABILITIES = sorted(_TAIL + [1 - p for p in _TAIL])


def kind_of(series: pd.Series) -> tuple[str, str]:
    """``(profile kind, kiln.data type)`` of a column."""
    from kiln.data.schema import column_type

    dtype = column_type(series)
    kind = {"int": "numeric", "float": "numeric", "bool": "boolean",
            "datetime": "datetime"}.get(dtype, "categorical")
    return kind, dtype


def profile_column(name: str, s: pd.Series, *, quantiles: int, bins: int, top_k: int,
                   reference: ColumnProfile | None) -> ColumnProfile:
    kind, dtype = kind_of(s)
    if reference is not None and reference.kind == "numeric" and kind == "boolean":
        kind = "numeric"  # a 0/1 window of a numeric column stays comparable
    if reference is not None and reference.kind == "categorical":
        kind = "categorical"  # e.g. codes that arrive as numbers: still compared as values
    if kind in ("numeric", "datetime"):
        return numeric_profile(name, kind, dtype, _as_float(s, kind), len(s),
                               quantiles=quantiles, bins=bins, reference=reference)
    return categorical_profile(name, kind, dtype, s, top_k=top_k, reference=reference)


def _as_float(s: pd.Series, kind: str) -> np.ndarray:
    import numpy as np

    from kiln.data.columns import numeric

    if kind == "datetime":
        ns = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
        ns[s.isna().to_numpy()] = np.nan
        return ns / 1e9
    return numeric(s).astype(np.float64, copy=False)


def numeric_profile(name: str, kind: str, dtype: str | None, values: np.ndarray, count: int, *,
                    quantiles: int, bins: int,
                    reference: ColumnProfile | None = None) -> ColumnProfile:
    """Profile float ``values`` (NaN and infinities count as missing)."""
    import numpy as np

    s = sorted_finite(values)
    n = int(s.size)
    base = ColumnProfile(name, kind, count, missing=count - n, dtype=dtype)
    if not n:
        ref = reference
        if ref is not None and ref.grid is not None:
            zeros = [0] * len(ref.grid)
            base = replace(base, grid=ref.grid, grid_le=zeros, grid_lt=zeros)
        if ref is not None and ref.hist_edges is not None:
            base = replace(base, hist_edges=ref.hist_edges,
                           hist_counts=[0] * (len(ref.hist_edges) + 1))
        return base
    q = quantiles_of(s, quantiles)
    if reference is not None and reference.grid is not None:
        grid = np.asarray(reference.grid, dtype=np.float64)
    else:
        grid = np.unique(np.concatenate([q, quantiles_at(s, TAIL_PROBABILITIES)]))
    le = np.searchsorted(s, grid, side="right")
    lt = np.searchsorted(s, grid, side="left")
    if reference is not None and reference.hist_edges is not None:
        edges = np.asarray(reference.hist_edges, dtype=np.float64)
    else:
        lo, hi = float(s[0]), float(s[-1])
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, bins + 1)
    cuts = np.searchsorted(s, edges, side="left")
    cuts[-1] = np.searchsorted(s, edges[-1], side="right")
    hist = np.diff(np.concatenate([[0], cuts, [n]]))
    freqs = None
    if np.unique(q).size <= NUMERIC_FREQUENCIES or (reference is not None
                                                    and reference.frequencies is not None):
        change = np.flatnonzero(s[1:] != s[:-1])
        distinct = int(change.size) + 1
        starts = np.concatenate([[0], change + 1])
        counts = np.diff(np.concatenate([starts, [n]]))
        keep = set(np.argsort(-counts, kind="stable")[:NUMERIC_FREQUENCIES].tolist())
        if reference is not None and reference.frequencies is not None:
            wanted = np.asarray([float(v) for v, _ in reference.frequencies])
            at = np.searchsorted(s[starts], wanted)
            found = at < starts.size
            found[found] = s[starts[at[found]]] == wanted[found]
            keep |= set(at[found].tolist())
        ranked = sorted(keep, key=lambda i: (-int(counts[i]), i))
        freqs = [[_num(s[starts[i]]), int(counts[i])] for i in ranked]
    else:
        distinct = int(np.count_nonzero(s[1:] != s[:-1])) + 1
    kept = int(sum(c for _, c in freqs)) if freqs is not None else n
    mean, std = _moments(s)
    return replace(
        base, mean=mean, std=std,
        min=float(s[0]), max=float(s[-1]), quantiles=[float(x) for x in q],
        grid=[float(x) for x in grid], grid_le=le.tolist(), grid_lt=lt.tolist(),
        below_sum=float(s[:lt[0]].sum()) if lt[0] else 0.0,
        above_sum=float(s[le[-1]:].sum()) if le[-1] < n else 0.0,
        hist_edges=[float(x) for x in edges], hist_counts=hist.tolist(),
        values=s.tolist() if n <= SMALL_SAMPLE else None,
        frequencies=freqs, other=n - kept, distinct=distinct)


def _moments(s: np.ndarray) -> tuple[float, float]:
    """Mean and population std without a temporary array (one einsum pass; not BLAS's
    dot, whose threads stall on a busy machine), falling back to the two-pass formula when
    the one-pass one would lose precision."""
    import numpy as np

    n = s.size
    mean = float(s.sum()) / n
    var = float(np.einsum("i,i->", s, s)) / n - mean * mean
    if var <= 1e-6 * mean * mean:
        var = float(s.var())
    return mean, math.sqrt(max(var, 0.0))


def quantiles_of(s: np.ndarray, k: int) -> np.ndarray:
    """The ``k + 1`` evenly spaced quantiles (linear interpolation) of sorted ``s``."""
    import numpy as np

    return quantiles_at(s, np.linspace(0.0, 1.0, k + 1))


def quantiles_at(s: np.ndarray, p: Any) -> np.ndarray:
    """Quantiles of sorted ``s`` at probabilities ``p`` (linear interpolation)."""
    import numpy as np

    pos = np.asarray(p, dtype=np.float64) * (s.size - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, s.size - 1)
    out: np.ndarray = s[lo] + (s[hi] - s[lo]) * (pos - lo)
    return out


def categorical_profile(name: str, kind: str, dtype: str | None, s: pd.Series, *, top_k: int,
                        reference: ColumnProfile | None = None) -> ColumnProfile:
    import numpy as np

    from kiln.data.columns import null_count, value_counts

    values, counts = value_counts(s)
    # most frequent first, ties in order of first appearance; all in C, so a column of a
    # million distinct ids costs one argsort
    order = np.argsort(-counts, kind="stable")
    keep = order[:top_k]
    if reference is not None and reference.frequencies is not None and len(values) > top_k:
        import pandas as pd

        known = pd.Index(values, dtype=object).get_indexer(
            [v for v, _ in reference.frequencies])
        extra = np.setdiff1d(known[known >= 0], keep)
        if extra.size:
            keep = np.concatenate([keep, extra])
            keep = keep[np.lexsort((np.argsort(np.argsort(order))[keep], -counts[keep]))]
    freqs = [[_plain(values[i]), int(counts[i])] for i in keep.tolist()]
    total = int(counts.sum())
    share = None
    if kind == "boolean":
        trues = sum(c for v, c in freqs if v is True)
        share = trues / total if total else None
    return ColumnProfile(name, kind, len(s), missing=null_count(s), dtype=dtype, mean=share,
                         frequencies=freqs, other=total - sum(c for _, c in freqs),
                         distinct=len(values))


def merge_columns(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    import numpy as np

    out = replace(a, count=a.count + b.count, missing=a.missing + b.missing,
                  other=a.other + b.other)
    na, nb = a.valid, b.valid
    if a.frequencies is not None or b.frequencies is not None:
        out = replace(out, **_merge_frequencies(a, b))
    if a.kind in ("categorical", "boolean"):
        if a.kind == "boolean":
            out = replace(out, mean=_weighted(a.mean, na, b.mean, nb))
        return out
    if not nb:
        return replace(out, distinct=a.distinct if out.other == 0 else None)
    if not na:
        return replace(b, count=out.count, missing=out.missing)
    if a.values is not None and b.values is not None and na + nb <= SMALL_SAMPLE:
        merged = numeric_profile(a.name, a.kind, a.dtype, np.array(a.values + b.values),
                                 out.count, quantiles=len(a.quantiles or [0, 0]) - 1,
                                 bins=len(a.hist_edges or [0, 0]) - 1, reference=a)
        return merged
    n = na + nb
    mean_a, mean_b = a.mean or 0.0, b.mean or 0.0
    mean = (na * mean_a + nb * mean_b) / n
    m2 = na * (a.std or 0.0) ** 2 + nb * (b.std or 0.0) ** 2 + \
        na * nb / n * (mean_a - mean_b) ** 2
    same_grid = a.grid is not None and a.grid == b.grid
    same_hist = a.hist_edges is not None and a.hist_edges == b.hist_edges
    return replace(
        out, mean=mean, std=math.sqrt(m2 / n), min=_opt(min, a.min, b.min),
        max=_opt(max, a.max, b.max),
        quantiles=_merge_quantiles(a.quantiles, na, b.quantiles, nb),
        grid=a.grid if same_grid else None,
        grid_le=_add(a.grid_le, b.grid_le) if same_grid else None,
        grid_lt=_add(a.grid_lt, b.grid_lt) if same_grid else None,
        below_sum=a.below_sum + b.below_sum if same_grid else 0.0,
        above_sum=a.above_sum + b.above_sum if same_grid else 0.0,
        hist_counts=_add(a.hist_counts, b.hist_counts) if same_hist else None,
        hist_edges=a.hist_edges if same_hist else None, values=None,
        distinct=out.distinct if out.frequencies is not None and out.other == 0 else None)


def _merge_frequencies(a: ColumnProfile, b: ColumnProfile) -> dict[str, Any]:
    counts: dict[Any, list[Any]] = {}
    for v, c in [*(a.frequencies or []), *(b.frequencies or [])]:
        slot = counts.setdefault(_key(v), [v, 0])
        slot[1] += int(c)
    keep = max(len(a.frequencies or []), len(b.frequencies or []))
    ranked = sorted(counts.values(), key=lambda vc: (-vc[1], str(vc[0])))[:keep]
    other = a.valid + b.valid - sum(c for _, c in ranked)
    distinct = len(ranked) if other == 0 else None
    return {"frequencies": ranked[:keep], "other": other, "distinct": distinct}


def _merge_quantiles(qa: list[float] | None, na: int, qb: list[float] | None,
                     nb: int) -> list[float] | None:
    import numpy as np

    if qa is None or qb is None:
        return qa or qb
    a, b = np.asarray(qa), np.asarray(qb)
    points = np.unique(np.concatenate([a, b]))
    right = (na * cdf_at(a, points) + nb * cdf_at(b, points)) / (na + nb)
    left = (na * cdf_at(a, points, left=True) + nb * cdf_at(b, points, left=True)) / (na + nb)
    # the mixed CDF as a path through (x, F(x-)) and (x, F(x)): jumps stay jumps
    xs = np.repeat(points, 2)
    fs = np.column_stack([left, right]).ravel()
    p = np.linspace(0.0, 1.0, len(qa))
    return [float(x) for x in np.interp(p, fs, xs)]


def cdf_at(q: np.ndarray, x: np.ndarray, *, left: bool = False) -> np.ndarray:
    """The CDF of a quantile sketch ``q`` (evenly spaced probabilities) at ``x``; with
    ``left``, its limit from the left (a value repeated in the sketch is a jump)."""
    import numpy as np

    p = np.linspace(0.0, 1.0, q.size)
    out = np.interp(x, q, p)
    if left:
        lo = np.searchsorted(q, x, side="left")
        on_tie = (lo < q.size) & (q[np.minimum(lo, q.size - 1)] == x)
        out[on_tie] = p[lo[on_tie]]
    else:
        hi = np.searchsorted(q, x, side="right")
        on_tie = (hi > 0) & (q[np.maximum(hi - 1, 0)] == x)
        out[on_tie] = p[hi[on_tie] - 1]
    result: np.ndarray = np.clip(out, 0.0, 1.0)
    return result


def _weighted(a: float | None, na: int, b: float | None, nb: int) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return (a * na + b * nb) / (na + nb) if na + nb else None


def _opt(f: Any, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return float(f(a, b))


def _add(a: list[int] | None, b: list[int] | None) -> list[int] | None:
    if a is None or b is None or len(a) != len(b):
        return None
    return [x + y for x, y in zip(a, b, strict=True)]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, bool | int | float | str) else str(value)


def _num(x: Any) -> int | float:
    v = float(x)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def _key(value: Any) -> Any:
    """Category identity across JSON round trips (1 and 1.0 are one number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return (type(value).__name__, value)
    return ("number", float(value))
