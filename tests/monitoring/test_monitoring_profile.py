"""Profiles: kinds and counts, JSON round trip, compact size, exact merges of windows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.monitoring import Profile


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[::10] = np.nan
    return pd.DataFrame({
        "x": x,
        "k": rng.poisson(3, n),
        "c": rng.choice(["a", "b", "c"], n),
        "flag": rng.random(n) < 0.3,
        "t": pd.date_range("2026-01-01", periods=n, freq="min"),
    })


def test_columns_have_kinds_counts_and_statistics() -> None:
    df = frame(5000)
    p = Profile.from_frame(df)
    x = p.column("x")
    assert [p.column(c).kind for c in df.columns] == \
        ["numeric", "numeric", "categorical", "boolean", "datetime"]
    assert x.count == 5000 and x.missing == 500 and x.missing_rate == pytest.approx(0.1)
    valid = df["x"].dropna()
    assert x.mean == pytest.approx(valid.mean()) and x.std == pytest.approx(valid.std(ddof=0))
    assert (x.min, x.max) == (valid.min(), valid.max())
    assert x.quantiles is not None and x.quantiles[100] == pytest.approx(valid.median())
    assert x.hist_counts is not None and sum(x.hist_counts) == 4500
    assert x.grid_le is not None and x.grid_le[-1] == 4500
    c = p.column("c")
    assert dict(map(tuple, c.frequencies or [])) == df["c"].value_counts().to_dict()
    assert p.column("flag").mean == pytest.approx(df["flag"].mean())
    k = p.column("k")
    assert k.distinct == df["k"].nunique() and k.frequencies is not None


def test_round_trip_through_json_is_exact() -> None:
    p = Profile.from_frame(frame(3000))
    text = p.to_json()
    assert json.loads(text)["type"] == "kiln.monitoring.Profile"
    assert Profile.from_json(text) == p


def test_size_does_not_grow_with_rows() -> None:
    small = len(Profile.from_frame(frame(20_000)).to_json())
    big = len(Profile.from_frame(frame(200_000, seed=1)).to_json())
    assert big < 60_000 and abs(big - small) < 0.1 * small


def test_top_k_keeps_an_other_bucket() -> None:
    df = pd.DataFrame({"id": [f"u{i}" for i in range(500)] + ["hot"] * 100})
    col = Profile.from_frame(df, top_k=10).column("id")
    assert col.frequencies is not None and len(col.frequencies) == 10
    assert col.frequencies[0] == ["hot", 100] and col.other == 600 - 100 - 9
    assert col.distinct == 501


def test_windows_profiled_against_a_reference_merge_exactly() -> None:
    ref = Profile.from_frame(frame(5000))
    df = frame(4000, seed=3)
    parts = [Profile.from_frame(df.iloc[i:i + 1000], reference=ref) for i in range(0, 4000, 1000)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    whole = Profile.from_frame(df, reference=ref)
    for name in ("x", "k"):
        m, w = merged.column(name), whole.column(name)
        assert m.grid_le == w.grid_le and m.grid_lt == w.grid_lt and m.hist_counts == w.hist_counts
        assert (m.count, m.missing, m.min, m.max) == (w.count, w.missing, w.min, w.max)
        assert m.mean == pytest.approx(w.mean) and m.std == pytest.approx(w.std)
        # the sketch itself merges approximately: rank error within two sketch intervals
        values = np.sort(df[name].dropna().to_numpy(dtype=float))
        assert m.quantiles is not None
        p = np.linspace(0, 1, len(m.quantiles))
        below = np.searchsorted(values, m.quantiles, side="left") / values.size
        at_most = np.searchsorted(values, m.quantiles, side="right") / values.size
        assert np.all(at_most >= p - 2 / 200) and np.all(below <= p + 2 / 200)
    assert merged.column("c").frequencies == whole.column("c").frequencies
    assert merged.rows == 4000


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(InvalidArgumentError, match="pandas DataFrame"):
        Profile.from_frame([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="'nope'"):
        Profile.from_frame(frame(10), columns=["nope"])
    with pytest.raises(InvalidArgumentError, match="type"):
        Profile.from_dict({"type": "something else"})
    data = Profile.from_frame(frame(10)).to_dict()
    with pytest.raises(InvalidArgumentError, match="version"):
        Profile.from_dict({**data, "version": 99})
    with pytest.raises(InvalidArgumentError, match="unknown key 'bogus'"):
        Profile.from_dict({**data, "columns": [{**data["columns"][0], "bogus": 1}]})


def test_profile_becomes_a_schema_for_quality_checks() -> None:
    schema = Profile.from_frame(frame(1000)).to_schema()
    c = schema.column("c")
    assert c.categories == ["a", "b", "c"]
    x = schema.column("x")
    assert x.min is not None and x.max is not None and x.min < -2 and x.max > 2
