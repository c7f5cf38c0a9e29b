"""Materialization and online lookups on both stacks, and no training/serving skew."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from features_data import ANCHOR, make_stats, stats_view

import kiln
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.features import Feature, FeatureView
from kiln.workspace import Workspace

FEATURES = ["driver_stats:f0", "driver_stats:f1", "driver_stats:trips"]


def latest_rows(src: pd.DataFrame, before: pd.Timestamp | None = None) -> pd.DataFrame:
    if before is not None:
        src = src[src.event_timestamp < before]
    return src.sort_values("event_timestamp").groupby("driver_id").tail(1).set_index("driver_id")


def test_materialize_then_lookup_with_freshness(fws: Workspace,
                                                stats: tuple[pd.DataFrame, Path]) -> None:
    src, path = stats
    kiln.features.apply([stats_view(path, ttl=None)])
    [result] = kiln.features.materialize()
    assert (result.view, result.version, result.start, result.rows) == (
        "driver_stats", 1, None, src.driver_id.nunique())
    latest = latest_rows(src)
    ids = [1003, 99999, 1007]
    out = kiln.features.get_online_features([{"driver_id": i} for i in ids], FEATURES)
    assert out.entities == {"driver_id": ids}
    for n, i in enumerate(ids):
        if i not in latest.index:
            assert out.values["f0"][n] is None and out.age_seconds["f0"][n] is None
            continue
        row = latest.loc[i]
        assert (out.values["f0"][n], out.values["f1"][n], out.values["trips"][n]) == (
            row.f0, row.f1, row.trips)
        expected_age = (pd.Timestamp.now(tz="UTC") - row.event_timestamp).total_seconds()
        assert abs(out.age_seconds["f1"][n] - expected_age) < 600
    columnar = kiln.features.get_online_features({"driver_id": ids}, ["driver_stats:f1"],
                                                 full_feature_names=True)
    assert columnar.to_dict()["driver_stats__f1"] == out.values["f1"]
    assert list(columnar.to_df().columns) == ["driver_id", "driver_stats__f1"]


def test_incremental_materialization_remembers_where_it_stopped(
    fws: Workspace, tmp_path: Path
) -> None:
    src = make_stats()
    folder = tmp_path / "stats"
    folder.mkdir()
    cut = ANCHOR - pd.Timedelta(days=2)
    src[src.event_timestamp < cut].to_parquet(folder / "old.parquet", index=False)
    kiln.features.apply([stats_view(folder, ttl=None)])
    [first] = kiln.features.materialize(end=cut)
    assert first.start is None and first.rows == src[src.event_timestamp < cut].driver_id.nunique()
    src[src.event_timestamp >= cut].to_parquet(folder / "new.parquet", index=False)
    [second] = kiln.features.materialize(end=ANCHOR + pd.Timedelta(seconds=1))
    assert second.start == first.end
    assert second.rows == src[src.event_timestamp >= cut].driver_id.nunique()
    latest = latest_rows(src)
    ids = latest.index.tolist()
    out = kiln.features.get_online_features({"driver_id": ids}, ["driver_stats:f1"])
    assert out.values["f1"] == latest.f1.tolist()
    # An explicit older window never takes a value back in time.
    kiln.features.materialize(start="2026-11-01", end=cut)
    again = kiln.features.get_online_features({"driver_id": ids}, ["driver_stats:f1"])
    assert again.values == out.values
    state = fws.store.get_materialization("driver_stats", fws.online_target)
    assert state is not None and state.until == second.end


def test_a_changed_definition_is_materialized_from_the_beginning(
    fws: Workspace, stats: tuple[pd.DataFrame, Path]
) -> None:
    src, path = stats
    kiln.features.apply([stats_view(path, ttl=None)])
    kiln.features.materialize()
    view = FeatureView("driver_stats", entities=stats_view(path).entities, source=path,
                       features=[Feature("f1", "float64"), Feature("trips", "float64")])
    kiln.features.apply([view])
    [result] = kiln.features.materialize()
    assert result.start is None and result.version == 2
    out = kiln.features.get_online_features({"driver_id": [1001]}, ["driver_stats:trips"])
    assert out.values["trips"] == [float(latest_rows(src).loc[1001].trips)]
    with pytest.raises(NotFoundError, match="no feature 'f0'"):
        kiln.features.get_online_features({"driver_id": [1001]}, ["driver_stats:f0"])


def test_training_and_serving_agree(fws: Workspace, tmp_path: Path) -> None:
    """The same definitions give the same values as of now, offline and online."""
    now = pd.Timestamp.now(tz="UTC").floor("s")
    src = make_stats()
    src["event_timestamp"] = src.event_timestamp + (now - ANCHOR) - pd.Timedelta(minutes=1)
    path = tmp_path / "recent.parquet"
    src.to_parquet(path, index=False)
    kiln.features.apply([stats_view(path, ttl=timedelta(days=4))])
    kiln.features.materialize()
    ids = list(range(1000, 1055))  # includes drivers without any history
    offline = kiln.features.get_training_set(
        pd.DataFrame({"driver_id": ids, "event_timestamp": [pd.Timestamp.now(tz="UTC")] * 55}),
        FEATURES)
    online = kiln.features.get_online_features({"driver_id": ids}, FEATURES)
    for name in ("f0", "f1", "trips"):
        for a, b in zip(offline[name].tolist(), online.values[name], strict=True):
            assert (b is None and math.isnan(a)) or a == b, name
    assert sum(v is None for v in online.values["f0"]) == 5  # ids 1050..1054 have no rows


def test_ttl_applies_online_too(fws: Workspace, stats: tuple[pd.DataFrame, Path]) -> None:
    kiln.features.apply([stats_view(stats[1], ttl=timedelta(days=1))])  # data ends 2026-11-20
    kiln.features.materialize()
    out = kiln.features.get_online_features({"driver_id": [1001]}, ["driver_stats:f1"])
    assert out.values["f1"] == [None] and out.age_seconds["f1"] == [None]


def test_online_bad_input(ws: Workspace, stats: tuple[pd.DataFrame, Path]) -> None:
    with pytest.raises(InvalidArgumentError, match="no feature views are registered"):
        kiln.features.materialize()
    kiln.features.apply([stats_view(stats[1])])
    with pytest.raises(InvalidArgumentError, match=r"no 'driver_id'.*given: id"):
        kiln.features.get_online_features([{"id": 1}], FEATURES)
    with pytest.raises(InvalidArgumentError, match="not accepted; use an int or a string"):
        kiln.features.get_online_features([{"driver_id": [1]}], FEATURES)
    with pytest.raises(NotFoundError, match="'other' is not registered"):
        kiln.features.get_online_features([{"driver_id": 1}], ["other:f0"])
    with pytest.raises(InvalidArgumentError, match="'someday' is not accepted"):
        kiln.features.materialize(end="someday")
    with pytest.raises(InvalidArgumentError, match="window of 'driver_stats' is empty"):
        kiln.features.materialize(start="2026-11-02", end="2026-11-01")
