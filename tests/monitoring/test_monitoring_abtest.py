"""A/B analysis against scipy's reference values and the textbook sample-size formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring import ABResult, compare_routes


def test_proportions_use_the_two_proportion_z_test() -> None:
    a = [1] * 120 + [0] * 880
    b = [1] * 160 + [0] * 840
    r = compare_routes(a, b, min_effect=0.02)
    pooled = 280 / 2000
    z = (0.16 - 0.12) / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert r.test == "two-proportion z-test" and r.metric_kind == "proportion"
    assert r.statistic == pytest.approx(z)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(z))
    assert r.significant and r.winner == "b" and r.difference == pytest.approx(0.04)
    # Wilson interval of route a
    lo, hi = stats.binomtest(120, 1000).proportion_ci(method="wilson")
    assert (r.route("a").ci_low, r.route("a").ci_high) == (pytest.approx(lo), pytest.approx(hi))
    # (z_.975 + z_.8)^2 * (p1 q1 + p2 q2) / d^2 with p1 = .12, p2 = .14
    zz = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    need = math.ceil(zz**2 * (0.12 * 0.88 + 0.14 * 0.86) / 0.02**2)
    assert r.required_n_per_route == need and r.additional_n == {"a": need - 1000,
                                                                 "b": need - 1000}
    assert ABResult.from_dict(r.to_dict()) == r


def test_means_use_welchs_t_test() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(10, 2, 200), rng.normal(10.6, 3, 150)
    r = compare_routes(a, b, names=("control", "challenger"))
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert r.test == "Welch's t-test" and r.metric_kind == "mean"
    assert r.statistic == pytest.approx(ref.statistic) and r.p_value == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert r.winner == ("challenger" if r.significant else None)


def test_bootstrap_where_neither_test_fits() -> None:
    few = compare_routes([1, 0, 0, 0, 1, 0], [1, 1, 1, 0, 1, 1])
    assert few.test == "bootstrap" and 0 < few.p_value <= 1 and few.statistic is None
    rng = np.random.default_rng(1)
    skewed = compare_routes(rng.lognormal(0, 1.5, 12), rng.lognormal(3, 1.5, 15))
    assert skewed.test == "bootstrap" and skewed.significant and skewed.winner == "b"
    assert skewed.ci_low > 0


def test_lower_is_better_and_no_difference() -> None:
    same = compare_routes([0.0, 1.0] * 50, [0.0, 1.0] * 50)
    assert not same.significant and same.winner is None and same.p_value == pytest.approx(1.0)
    latency = compare_routes([100.0, 120, 110] * 20, [80.0, 85, 90] * 20, higher_is_better=False)
    assert latency.winner == "b"


def test_bad_input() -> None:
    with pytest.raises(InvalidArgumentError, match="metric_kind 'ratio'"):
        compare_routes([1, 0], [1, 0], metric_kind="ratio")
    with pytest.raises(InvalidArgumentError, match="outcomes of 0 or 1"):
        compare_routes([1, 2], [1, 0], metric_kind="proportion")
    with pytest.raises(InvalidArgumentError, match="route 'b' has 1 outcomes"):
        compare_routes([1, 0], [1])
    with pytest.raises(InvalidArgumentError, match="must be numbers"):
        compare_routes(["x", "y"], [1, 0])
