"""Drift: shifted columns found and unshifted ones left alone, tests chosen by size and type,
empty windows, unseen categories, agreement with scipy, reference-size independence."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import kiln.monitoring as mon
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.monitoring import DriftConfig, DriftResult, Profile, detect_drift

SHIFTED = ["n_mean", "n_scale", "c_uniform", "c_new"]


def make(n: int, seed: int, shifted: bool) -> pd.DataFrame:
    """The benchmark's generator in small: shifted columns and look-alike unshifted ones."""
    rng = np.random.default_rng(seed)
    p = [0.4, 0.3, 0.2, 0.1]
    levels = np.array(["a", "b", "c", "d"])
    new = levels[rng.choice(4, n, p=p)].astype(object)
    if shifted:
        new[rng.random(n) < 0.1] = "NEW"
    return pd.DataFrame({
        "n_mean": rng.normal(0.5 if shifted else 0.0, 1.0, n),
        "n_scale": rng.normal(0.0, 1.5 if shifted else 1.0, n),
        "normal": rng.normal(size=n),
        "lognormal": rng.lognormal(0.0, 0.75, n),
        "uniform": rng.uniform(-3, 3, n),
        "poisson": rng.poisson(4, n).astype(float),
        "c_uniform": levels[rng.choice(4, n, p=[0.25] * 4 if shifted else p)],
        "c_new": new.astype(str),
        "c_same": levels[rng.choice(4, n, p=p)],
        "binary": rng.random(n) < 0.3,
    })


@pytest.fixture(scope="module")
def reference() -> Profile:
    return Profile.from_frame(make(20_000, 1, False))


def test_large_windows_flag_exactly_the_shifted_columns(reference: Profile) -> None:
    result = detect_drift(reference, make(20_000, 2, True))
    assert sorted(result.drifted_columns) == sorted(SHIFTED)
    assert result.column("n_mean").test == "wasserstein"
    assert result.column("c_new").test == "jensenshannon"
    assert result.column("binary").test == "jensenshannon"
    assert result.share_of_drifted_features == pytest.approx(4 / 10)
    assert result.dataset_drift is False and not result.empty
    calm = detect_drift(reference, make(20_000, 3, False))
    assert calm.drifted_columns == [] and calm.share_of_drifted_features == 0.0


def test_small_windows_use_p_value_tests(reference: Profile) -> None:
    result = detect_drift(reference, make(400, 4, True))
    assert result.column("n_mean").test == "ks" and result.column("n_mean").p_value is not None
    assert result.column("c_uniform").test == "chisquare"
    assert result.column("binary").test == "z"
    assert {"n_mean", "c_uniform", "c_new"} <= set(result.drifted_columns)
    assert "normal" not in result.drifted_columns


def test_an_empty_window_is_empty_not_no_drift(reference: Profile) -> None:
    result = detect_drift(reference, make(10, 5, False).iloc[:0])
    assert result.empty and result.share_of_drifted_features is None
    assert result.dataset_drift is None and result.columns == []
    back = DriftResult.from_dict(result.to_dict())
    assert back.empty and back.to_dict()["share_of_drifted_features"] is None


def test_a_column_with_no_values_is_not_tested(reference: Profile) -> None:
    window = make(2000, 6, False).assign(normal=np.nan)
    col = detect_drift(reference, window).column("normal")
    assert col.empty and col.test == "none" and not col.drifted and col.statistic is None


def test_unseen_categories_are_drift() -> None:
    ref = pd.DataFrame({"plan": ["basic", "pro"] * 1000})
    cur = pd.DataFrame({"plan": ["basic", "pro", "enterprise", "trial"] * 500})
    col = detect_drift(ref, cur).column("plan")
    assert col.drifted and col.test == "jensenshannon"
    p, q = np.array([0.5, 0.5, 0, 0]), np.array([0.25, 0.25, 0.25, 0.25])
    from scipy.spatial.distance import jensenshannon
    assert col.statistic == pytest.approx(jensenshannon(p, q))


def test_wasserstein_and_psi_match_direct_computation(reference: Profile) -> None:
    ref_df, cur_df = make(20_000, 1, False), make(20_000, 2, True)
    result = detect_drift(reference, cur_df)
    for name in ("n_mean", "n_scale", "lognormal", "poisson"):
        a, b = ref_df[name].to_numpy(), cur_df[name].to_numpy()
        exact = stats.wasserstein_distance(a, b) / a.std()
        assert result.column(name).statistic == pytest.approx(exact, rel=0.02, abs=0.002)
    psi = detect_drift(reference, cur_df, config=DriftConfig(tests={"n_mean": "psi"}))
    a, b = ref_df["n_mean"].to_numpy(), cur_df["n_mean"].to_numpy()
    edges = np.quantile(a, np.linspace(0, 1, 11)[1:-1])
    p = np.bincount(np.searchsorted(edges, a, side="right"), minlength=10) / a.size
    q = np.bincount(np.searchsorted(edges, b, side="right"), minlength=10) / b.size
    assert psi.column("n_mean").statistic == pytest.approx(float(np.sum((q - p) * np.log(q / p))),
                                                           rel=0.01)


def test_small_samples_use_scipys_exact_ks() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=300), rng.normal(0.3, size=250)
    col = detect_drift(pd.DataFrame({"x": a}), pd.DataFrame({"x": b})).column("x")
    expected = stats.ks_2samp(a, b)
    assert col.statistic == pytest.approx(expected.statistic)
    assert col.p_value == pytest.approx(expected.pvalue)


def test_cost_does_not_depend_on_reference_size() -> None:
    rng = np.random.default_rng(8)
    window = pd.DataFrame({"x": rng.normal(0.2, 1, 50_000),
                           "c": rng.choice(list("abc"), 50_000)})
    profiles = {}
    for n in (10_000, 1_000_000):
        profiles[n] = Profile.from_frame(
            pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(list("abc"), n)}))
    assert abs(len(profiles[10_000].to_json()) - len(profiles[1_000_000].to_json())) < 2000
    timings, verdicts = {}, {}
    for n, prof in profiles.items():
        detect_drift(prof, window)  # warm up imports
        start = time.perf_counter()
        for _ in range(3):
            res = detect_drift(prof, window)
        timings[n] = time.perf_counter() - start
        verdicts[n] = (res.drifted_columns, res.column("x").statistic)
    for drifted, statistic in verdicts.values():
        assert drifted == ["x"] and statistic == pytest.approx(0.2, abs=0.02)
    assert timings[1_000_000] < 3 * timings[10_000] + 0.05


def test_config_overrides_and_bad_input(reference: Profile) -> None:
    window = make(5000, 9, False)
    cfg = DriftConfig(tests={"normal": "ks"}, thresholds={"uniform": 0.0})
    res = detect_drift(reference, window, columns=["normal", "uniform"], config=cfg)
    assert res.column("normal").test == "ks" and res.column("uniform").drifted
    with pytest.raises(InvalidArgumentError, match="'nope' for column 'x'"):
        DriftConfig(tests={"x": "nope"})
    with pytest.raises(InvalidArgumentError, match="needs a numeric column"):
        detect_drift(reference, window, columns=["c_same"],
                     config=DriftConfig(tests={"c_same": "ks"}))
    with pytest.raises(NotFoundError, match="'missing'"):
        detect_drift(reference, window, columns=["missing"])
    res = detect_drift(reference, window.drop(columns=["normal"]))
    assert res.missing_columns == ["normal"]


def test_datetime_columns_are_skipped_and_results_round_trip() -> None:
    ref = pd.DataFrame({"t": pd.date_range("2026-01-01", periods=3000, freq="min"),
                        "x": np.arange(3000.0)})
    cur = ref.assign(t=ref["t"] + pd.Timedelta(days=30))
    res = detect_drift(ref, cur)
    assert res.skipped_columns == ["t"] and [c.column for c in res.columns] == ["x"]
    assert DriftResult.from_dict(res.to_dict()) == res
    stored = Profile.from_frame(ref).to_dict()
    assert detect_drift(stored, cur) == res


def test_window_profiles_give_the_same_verdict_as_frames(reference: Profile) -> None:
    window = make(6000, 10, True)
    parts = [Profile.from_frame(window.iloc[i:i + 2000], reference=reference)
             for i in range(0, 6000, 2000)]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    from_profile = detect_drift(reference, merged)
    from_frame = mon.detect_drift(reference, window)
    assert from_profile.drifted_columns == from_frame.drifted_columns
    for a, b in zip(from_profile.columns, from_frame.columns, strict=True):
        assert a.statistic == pytest.approx(b.statistic)


def test_a_numeric_column_arriving_as_text_is_a_type_change(reference: Profile) -> None:
    window = make(3000, 11, False).assign(normal="n/a")
    col = detect_drift(reference, window).column("normal")
    assert col.test == "type_change" and col.drifted and col.statistic is None


def test_a_window_profiled_on_its_own_is_compared_through_its_sketch(
        reference: Profile) -> None:
    window = make(20_000, 12, True)
    exact = detect_drift(reference, window)
    own = detect_drift(reference, Profile.from_frame(window))  # no shared grid
    assert own.drifted_columns == exact.drifted_columns
    for a, b in zip(own.columns, exact.columns, strict=True):
        assert a.statistic == pytest.approx(b.statistic, rel=0.05, abs=0.005)
