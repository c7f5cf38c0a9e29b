"""The built-in drift tests, on profiles (registered in :mod:`kiln.monitoring.stattests`).

Numbers are compared on the reference's grid: at each grid point both sides' exact
counts of values ``<`` and ``<=`` it are known, so both CDFs are known there exactly, and
between two points each is taken as linear (exact for values that sit on the points,
i.e. discrete columns). Values beyond the reference's range enter through their sums,
which is exact.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring.profile import ColumnProfile
from kiln.monitoring.stattests import StatTest

if TYPE_CHECKING:
    import numpy as np

PSI_BINS = 10
PSI_EPS = 1e-4
PSEUDO_SAMPLE = 20_000  # points standing for a window known only by its own sketch


class Grid:
    """One side's counts on a shared grid of points ``u``."""

    def __init__(self, u: np.ndarray, le: np.ndarray, lt: np.ndarray, below: float,
                 above: float, n: float) -> None:
        self.u, self.le, self.lt, self.below, self.above, self.n = u, le, lt, below, above, n


def _binned(stat: Any) -> Any:
    """A test on counts, fed reference-decile bins for continuous numbers, else the value
    counts (see :func:`decile_counts` and :func:`category_counts`)."""
    def compute(ref: ColumnProfile, cur: ColumnProfile,
                continuous: bool) -> tuple[float, float | None]:
        r, c = decile_counts(ref, cur) if continuous else category_counts(ref, cur)
        return stat(r, c)  # type: ignore[no-any-return]
    return compute


def grids(ref: ColumnProfile, cur: ColumnProfile) -> tuple[Grid, Grid]:
    """Both sides on the reference's grid (exact when ``cur`` was profiled against it)."""
    import numpy as np

    if ref.grid is not None and ref.grid_le is not None and ref.grid_lt is not None:
        u = np.asarray(ref.grid, dtype=np.float64)
        r = Grid(u, np.asarray(ref.grid_le, float), np.asarray(ref.grid_lt, float),
                 ref.below_sum, ref.above_sum, float(ref.valid))
    else:
        u = np.unique(np.asarray(_need_quantiles(ref), dtype=np.float64))
        r = _approximate(ref, u)
    if cur.grid is not None and cur.grid == ref.grid and cur.grid_le is not None \
            and cur.grid_lt is not None:
        c = Grid(u, np.asarray(cur.grid_le, float), np.asarray(cur.grid_lt, float),
                 cur.below_sum, cur.above_sum, float(cur.valid))
    elif cur.values is not None:
        s = np.asarray(cur.values, dtype=np.float64)
        le = np.searchsorted(s, u, side="right")
        lt = np.searchsorted(s, u, side="left")
        c = Grid(u, le.astype(float), lt.astype(float), float(s[:lt[0]].sum()),
                 float(s[le[-1]:].sum()), float(s.size))
    else:
        c = _approximate(cur, u)
    return r, c


def _need_quantiles(col: ColumnProfile) -> list[float]:
    if col.quantiles is None:
        raise InvalidArgumentError(f"column {col.name!r} has no quantile sketch to compare")
    return col.quantiles


def _approximate(col: ColumnProfile, u: np.ndarray) -> Grid:
    """Counts on ``u`` for a profile made without the reference (e.g. a merge of profiles
    with different grids): read off its own grid's CDF (exact at its points, point masses
    kept) or else its quantile sketch, through a fine pseudo-sample."""
    import numpy as np

    m = PSEUDO_SAMPLE
    probabilities = (np.arange(m) + 0.5) / m
    if col.grid is not None and col.grid_le is not None and col.grid_lt is not None:
        n = float(col.valid)
        xs = np.repeat(np.asarray(col.grid, dtype=np.float64), 2)
        fs = np.column_stack([np.asarray(col.grid_lt), np.asarray(col.grid_le)]).ravel() / n
        pseudo = np.interp(probabilities, fs, xs)
    else:
        q = np.asarray(_need_quantiles(col), dtype=np.float64)
        pseudo = np.interp(probabilities, np.linspace(0.0, 1.0, q.size), q)
    w = col.valid / m
    le = np.searchsorted(pseudo, u, side="right")
    lt = np.searchsorted(pseudo, u, side="left")
    return Grid(u, le * w, lt * w, float(pseudo[:lt[0]].sum()) * w,
                float(pseudo[le[-1]:].sum()) * w, float(col.valid))


def ks(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov ``(D, p)``: scipy's exact test when both sides kept
    their values, else D at the grid points with scipy's asymptotic p-value."""
    import numpy as np
    from scipy import stats

    if ref.values is not None and cur.values is not None:
        res = stats.ks_2samp(np.asarray(ref.values), np.asarray(cur.values))
        return float(res.statistic), float(res.pvalue)
    r, c = grids(ref, cur)
    d = float(max(np.max(np.abs(r.le / r.n - c.le / c.n)),
                  np.max(np.abs(r.lt / r.n - c.lt / c.n))))
    m, n = sorted([r.n, c.n], reverse=True)
    en = m * n / (m + n)
    return d, float(stats.kstwo.sf(d, np.round(en)))


def wasserstein(ref: ColumnProfile, cur: ColumnProfile) -> float:
    """First Wasserstein distance divided by the reference's std (at least 0.001), as
    Evidently's "Wasserstein distance (normed)"."""
    import numpy as np

    r, c = grids(ref, cur)
    u = r.u
    a = r.le[:-1] / r.n - c.le[:-1] / c.n  # difference of the CDFs just right of u[j]
    b = r.lt[1:] / r.n - c.lt[1:] / c.n  # ... and just left of u[j + 1]
    w = np.diff(u)
    abs_a, abs_b = np.abs(a), np.abs(b)
    same = a * b >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = (a * a + b * b) / (2 * (abs_a + abs_b))
    area = np.where(same, (abs_a + abs_b) / 2, np.nan_to_num(crossing)) * w
    lo, hi = u[0], u[-1]
    below = abs((c.lt[0] * lo - c.below) / c.n - (r.lt[0] * lo - r.below) / r.n)
    above = abs((c.above - (c.n - c.le[-1]) * hi) / c.n - (r.above - (r.n - r.le[-1]) * hi) / r.n)
    distance = float(area.sum()) + float(below) + float(above)
    return distance / max(ref.std or 0.0, 0.001)


def category_counts(ref: ColumnProfile, cur: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Both sides' counts over one list of categories. Values the window has and the
    reference's top-K lacks form their own cells when the reference kept every value, else
    they join the reference's ``other`` cell (it may hold them)."""
    import numpy as np

    from kiln.monitoring._sketch import _key

    rmap = {_key(v): int(n) for v, n in ref.frequencies or []}
    cmap: dict[Any, int] = {}
    c_other = cur.other
    for v, n in cur.frequencies or []:
        k = _key(v)
        if k in rmap or not ref.other:
            cmap[k] = cmap.get(k, 0) + int(n)
        else:
            c_other += int(n)
    keys = list(dict.fromkeys([*rmap, *cmap]))
    r = np.array([rmap.get(k, 0) for k in keys] + [ref.other], dtype=np.float64)
    c = np.array([cmap.get(k, 0) for k in keys] + [c_other], dtype=np.float64)
    used = (r + c) > 0
    return r[used], c[used]


def decile_counts(ref: ColumnProfile, cur: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Counts in ten bins cut at the reference's deciles (fewer when they coincide)."""
    import numpy as np

    r, c = grids(ref, cur)
    targets = np.arange(1, PSI_BINS) / PSI_BINS * r.n
    cut = np.unique(np.minimum(np.searchsorted(r.le, targets, side="left"), r.u.size - 1))
    r_cum = np.concatenate([[0.0], r.le[cut], [r.n]])
    c_cum = np.concatenate([[0.0], c.le[cut], [c.n]])
    return np.diff(r_cum), np.diff(c_cum)


def psi(r: np.ndarray, c: np.ndarray) -> float:
    """Population stability index, shares clipped at 1e-4."""
    import numpy as np

    p = np.clip(r / r.sum(), PSI_EPS, None)
    q = np.clip(c / c.sum(), PSI_EPS, None)
    return float(np.sum((q - p) * np.log(q / p)))


def jensenshannon(r: np.ndarray, c: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log), as ``scipy.spatial.distance.jensenshannon``."""
    import numpy as np

    p, q = r / r.sum(), c / c.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0).sum()
    return float(math.sqrt(max((kl_p + kl_q) / 2, 0.0)))


def chisquare(r: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity on the 2 x K table (no continuity correction)."""
    import numpy as np
    from scipy import stats

    if r.size < 2:
        return 0.0, 1.0
    res = stats.chi2_contingency(np.vstack([r, c]), correction=False)
    return float(res.statistic), float(res.pvalue)


def z_test(r: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Two-proportion z-test on the share of the first category."""
    from scipy import stats

    if r.size < 2:
        return 0.0, 1.0
    n1, n2 = float(r.sum()), float(c.sum())
    p1, p2 = r[0] / n1, c[0] / n2
    pooled = (r[0] + c[0]) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = float((p1 - p2) / se)
    return z, float(2 * stats.norm.sf(abs(z)))


KS = StatTest("ks", "p_value", 0.05, True, lambda r, c, _: ks(r, c))
WASSERSTEIN = StatTest("wasserstein", "distance", 0.1, True,
                       lambda r, c, _: (wasserstein(r, c), None))
PSI = StatTest("psi", "distance", 0.1, False, _binned(lambda r, c: (psi(r, c), None)))
JENSENSHANNON = StatTest("jensenshannon", "distance", 0.1, False,
                         _binned(lambda r, c: (jensenshannon(r, c), None)))
CHISQUARE = StatTest("chisquare", "p_value", 0.05, False, _binned(chisquare))
Z = StatTest("z", "p_value", 0.05, False, _binned(z_test), categorical_only=True)
