"""A/B analysis between two routes of a deployment: is B better than A, with significance?

``compare_routes(a, b)`` takes each route's per-request outcomes (0/1 for a conversion or
a correct prediction, numbers for a revenue or an error) and returns the metric per
route with its confidence interval, the test of the difference and its p-value, the
winner when the difference is significant, and how many more requests each route needs
to detect ``min_effect`` with 80% power::

    >>> r = compare_routes([1] * 120 + [0] * 880, [1] * 160 + [0] * 840, min_effect=0.02)
    >>> r.test, r.significant, r.winner, round(r.p_value, 4)
    ('two-proportion z-test', True, 'b', 0.0099)

Which test (``method="auto"``):

- proportions (every value 0 or 1): the two-proportion z-test (pooled standard error)
  when each route has at least 5 successes and 5 failures; Wilson intervals per route;
- means: Welch's t-test (unequal variances) when both routes have at least 30 values, or
  at least 2 with a sample skewness within +-1; t intervals per route;
- otherwise a bootstrap (10,000 resamples, seeded): percentile intervals, and the p-value
  of the difference from resamples of both routes shifted to the pooled mean.

Sample size per route for an absolute difference ``min_effect`` at ``alpha`` (two-sided)
and ``power``: ``(z_{1-alpha/2} + z_power)^2 * (var_a + var_b) / min_effect^2``, with the
variances ``p(1-p)`` at A's rate and at A's rate plus the effect for proportions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring.profile import check_saved

if TYPE_CHECKING:
    import numpy as np

RESULT_TYPE = "kiln.monitoring.ABResult"
RESULT_VERSION = 1
KINDS = ("auto", "proportion", "mean")
METHODS = ("auto", "z", "welch", "bootstrap")
BOOTSTRAP_RESAMPLES = 10_000


@dataclass(frozen=True)
class RouteStats:
    """One route's metric (a rate or a mean) with its confidence interval."""

    name: str
    n: int
    value: float
    ci_low: float
    ci_high: float
    std: float


@dataclass(frozen=True)
class ABResult:
    """The comparison of route B with route A; ``difference`` is B minus A."""

    metric_kind: str
    test: str
    routes: list[RouteStats]
    difference: float
    ci_low: float
    ci_high: float
    statistic: float | None
    p_value: float
    alpha: float
    significant: bool
    winner: str | None
    min_effect: float | None = None
    power: float = 0.8
    required_n_per_route: int | None = None
    additional_n: dict[str, int] = field(default_factory=dict)

    def route(self, name: str) -> RouteStats:
        for r in self.routes:
            if r.name == name:
                return r
        raise InvalidArgumentError(
            f"no route {name!r}; routes: {', '.join(r.name for r in self.routes)}")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["routes"] = [asdict(r) for r in self.routes]
        return {"type": RESULT_TYPE, "version": RESULT_VERSION, **out}

    @classmethod
    def from_dict(cls, data: Any) -> ABResult:
        data = check_saved(data, RESULT_TYPE, RESULT_VERSION, "A/B result")
        fields_ = {k: v for k, v in data.items() if k not in ("type", "version")}
        fields_["routes"] = [RouteStats(**r) for r in fields_["routes"]]
        return cls(**fields_)


def compare_routes(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, *,
                   metric_kind: str = "auto", alpha: float = 0.05,
                   min_effect: float | None = None, power: float = 0.8,
                   names: tuple[str, str] = ("a", "b"), method: str = "auto",
                   higher_is_better: bool = True, seed: int = 0) -> ABResult:
    """Compare route ``b`` with route ``a`` (see the module docstring)."""
    import numpy as np

    if metric_kind not in KINDS:
        raise InvalidArgumentError(
            f"metric_kind {metric_kind!r} is unknown; accepted: {', '.join(KINDS)}")
    if method not in METHODS:
        raise InvalidArgumentError(f"method {method!r} is unknown; accepted: {', '.join(METHODS)}")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise InvalidArgumentError(f"alpha and power must lie in (0, 1); got {alpha}, {power}")
    if min_effect is not None and min_effect <= 0:
        raise InvalidArgumentError(f"min_effect must be positive, not {min_effect}")
    xa, xb = _outcomes(a, names[0]), _outcomes(b, names[1])
    binary = all(bool(np.isin(x, (0.0, 1.0)).all()) for x in (xa, xb))
    kind = ("proportion" if binary else "mean") if metric_kind == "auto" else metric_kind
    if kind == "proportion" and not binary:
        raise InvalidArgumentError(
            "metric_kind 'proportion' needs outcomes of 0 or 1; use 'mean' for other numbers")
    test = method if method != "auto" else _pick(kind, xa, xb)
    if test == "z" and kind != "proportion":
        raise InvalidArgumentError("the z-test compares proportions; use 'welch' for means")
    if test == "bootstrap":
        stats_, diff_ci, statistic, p = _bootstrap(xa, xb, names, alpha, seed)
        label = "bootstrap"
    elif test == "z":
        stats_, diff_ci, statistic, p = _z_test(xa, xb, names, alpha)
        label = "two-proportion z-test"
    else:
        stats_, diff_ci, statistic, p = _welch(xa, xb, names, alpha)
        label = "Welch's t-test"
    diff = stats_[1].value - stats_[0].value
    significant = bool(p < alpha)
    winner = None
    if significant and diff != 0:
        winner = names[1] if (diff > 0) == higher_is_better else names[0]
    required = None
    additional: dict[str, int] = {}
    if min_effect is not None:
        required = required_sample_size(kind, stats_[0], stats_[1], min_effect, alpha, power)
        additional = {r.name: max(0, required - r.n) for r in stats_}
    return ABResult(kind, label, stats_, diff, diff_ci[0], diff_ci[1], statistic, p, alpha,
                    significant, winner, min_effect, power, required, additional)


def required_sample_size(kind: str, a: RouteStats, b: RouteStats, min_effect: float,
                         alpha: float = 0.05, power: float = 0.8) -> int:
    """Requests per route to detect ``min_effect`` (see the module docstring)."""
    from scipy.stats import norm

    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    if kind == "proportion":
        p1 = a.value
        p2 = p1 + min_effect if p1 + min_effect <= 1 else p1 - min_effect
        variance = p1 * (1 - p1) + p2 * (1 - p2)
    else:
        variance = a.std**2 + b.std**2
    return max(2, math.ceil(float(z * z * variance) / min_effect**2))


def _outcomes(x: Any, name: str) -> np.ndarray:
    import numpy as np

    try:
        arr = np.asarray(x, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"route {name!r} outcomes must be numbers (0/1 or values), not "
            f"{type(next(iter(x), None)).__name__}") from None
    arr = arr[~np.isnan(arr)]
    if arr.size < 2:
        raise InvalidArgumentError(
            f"route {name!r} has {arr.size} outcomes; at least 2 are needed to compare")
    return arr


def _pick(kind: str, xa: np.ndarray, xb: np.ndarray) -> str:
    from scipy.stats import skew

    if kind == "proportion":
        ok = all(min(x.sum(), x.size - x.sum()) >= 5 for x in (xa, xb))
        return "z" if ok else "bootstrap"
    if min(xa.size, xb.size) >= 30:
        return "welch"
    skews = [abs(float(skew(x))) if x.std() > 0 else 0.0 for x in (xa, xb)]
    return "welch" if max(skews) <= 1 else "bootstrap"


def _z_test(xa: np.ndarray, xb: np.ndarray, names: tuple[str, str],
            alpha: float) -> tuple[list[RouteStats], tuple[float, float], float, float]:
    from scipy.stats import norm

    z_crit = float(norm.ppf(1 - alpha / 2))
    stats_ = []
    for name, x in zip(names, (xa, xb), strict=True):
        n, p = x.size, float(x.mean())
        lo, hi = _wilson(p, n, z_crit)
        stats_.append(RouteStats(name, n, p, lo, hi, math.sqrt(p * (1 - p))))
    (n1, p1), (n2, p2) = ((s.n, s.value) for s in stats_)
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se_pooled if se_pooled else 0.0
    p = float(2 * norm.sf(abs(z))) if se_pooled else 1.0
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return stats_, (p2 - p1 - z_crit * se, p2 - p1 + z_crit * se), z, p


def _wilson(p: float, n: int, z: float) -> tuple[float, float]:
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _welch(xa: np.ndarray, xb: np.ndarray, names: tuple[str, str],
           alpha: float) -> tuple[list[RouteStats], tuple[float, float], float, float]:
    from scipy import stats

    stats_ = []
    for name, x in zip(names, (xa, xb), strict=True):
        m, sd, n = float(x.mean()), float(x.std(ddof=1)), x.size
        half = float(stats.t.ppf(1 - alpha / 2, n - 1)) * sd / math.sqrt(n)
        stats_.append(RouteStats(name, n, m, m - half, m + half, sd))
    res = stats.ttest_ind(xb, xa, equal_var=False)
    va, vb = stats_[0].std ** 2 / xa.size, stats_[1].std ** 2 / xb.size
    se = math.sqrt(va + vb)
    diff = stats_[1].value - stats_[0].value
    if se == 0:
        return stats_, (diff, diff), 0.0, 1.0 if diff == 0 else 0.0
    dof = (va + vb) ** 2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    half = float(stats.t.ppf(1 - alpha / 2, dof)) * se
    return stats_, (diff - half, diff + half), float(res.statistic), float(res.pvalue)


def _bootstrap(xa: np.ndarray, xb: np.ndarray, names: tuple[str, str], alpha: float,
               seed: int) -> tuple[list[RouteStats], tuple[float, float], float | None, float]:
    import numpy as np

    rng = np.random.default_rng(seed)
    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
    pooled = float(np.concatenate([xa, xb]).mean())
    means, null_means = [], []
    stats_ = []
    for name, x in zip(names, (xa, xb), strict=True):
        m = _resampled_means(x, rng)
        means.append(m)
        null_means.append(_resampled_means(x - x.mean() + pooled, rng))
        lo, hi = np.percentile(m, q)
        stats_.append(RouteStats(name, x.size, float(x.mean()), float(lo), float(hi),
                                 float(x.std(ddof=1))))
    diff = means[1] - means[0]
    observed = stats_[1].value - stats_[0].value
    null = null_means[1] - null_means[0]
    p = float((np.sum(np.abs(null) >= abs(observed) - 1e-12) + 1) / (null.size + 1))
    lo, hi = np.percentile(diff, q)
    return stats_, (float(lo), float(hi)), None, min(1.0, p)


def _resampled_means(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Means of ``BOOTSTRAP_RESAMPLES`` resamples of ``x``, in chunks of ~1M draws."""
    import numpy as np

    out = np.empty(BOOTSTRAP_RESAMPLES)
    step = max(1, 1_000_000 // x.size)
    for start in range(0, BOOTSTRAP_RESAMPLES, step):
        k = min(step, BOOTSTRAP_RESAMPLES - start)
        out[start:start + k] = x[rng.integers(0, x.size, size=(k, x.size))].mean(axis=1)
    return out
