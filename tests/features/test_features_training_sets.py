"""Point-in-time training sets: exact against a brute-force reference, rows never dropped."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from features_data import DRIVER, make_entities, make_stats, stats_view

import kiln
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.workspace import Workspace

FEATURES = ["driver_stats:f0", "driver_stats:f1", "driver_stats:trips"]


def brute_force(src: pd.DataFrame, row: pd.Series, ttl: timedelta | None) -> pd.Series | None:
    """The latest source row of the entity at or before the row's time, within ttl."""
    cand = src[(src.driver_id == row.driver_id) & (src.event_timestamp <= row.event_timestamp)]
    if ttl is not None:
        cand = cand[cand.event_timestamp >= row.event_timestamp - ttl]
    return None if cand.empty else cand.loc[cand.event_timestamp.idxmax()]


@pytest.mark.parametrize("ttl", [timedelta(days=3), None])
def test_matches_brute_force_and_keeps_every_row(
    fws: Workspace, stats: tuple[pd.DataFrame, Path], ttl: timedelta | None
) -> None:
    src, path = stats
    kiln.features.apply([stats_view(path, ttl)])
    entities = make_entities()
    entities.index = pd.RangeIndex(100, 100 + len(entities))  # the caller's index is kept
    out = kiln.features.get_training_set(entities, FEATURES)
    assert len(out) == len(entities)
    assert out.index.equals(entities.index)
    assert out[["driver_id", "event_timestamp"]].equals(entities)
    assert out.f0.dtype == np.float32 and out.f1.dtype == np.float64
    nulls = 0
    for idx, row in entities.iterrows():
        expected = brute_force(src, row, ttl)
        got = out.loc[idx]
        if expected is None:
            nulls += 1
            assert math.isnan(got.f0) and math.isnan(got.f1) and pd.isna(got.trips)
        else:
            assert (got.f0, got.f1, got.trips) == (expected.f0, expected.f1, expected.trips)
    assert nulls > 0  # unknown drivers (ids >= 1050) and rows before any history are kept


def test_order_and_duplicates_preserved(ws: Workspace, stats: tuple[pd.DataFrame, Path]) -> None:
    kiln.features.apply([stats_view(stats[1])])
    entities = make_entities(50).sort_values("event_timestamp", ascending=False)
    entities = pd.concat([entities, entities.head(5)])
    out = kiln.features.get_training_set(entities, ["driver_stats:f1"])
    assert out.driver_id.tolist() == entities.driver_id.tolist()
    assert out.event_timestamp.tolist() == entities.event_timestamp.tolist()
    np.testing.assert_array_equal(out.f1.to_numpy()[-5:], out.f1.to_numpy()[:5])


def test_several_views_directory_and_sql_sources(ws: Workspace, tmp_path: Path) -> None:
    src = make_stats()
    folder = tmp_path / "parts"
    folder.mkdir()
    src.iloc[:1000].to_parquet(folder / "a.parquet", index=False)
    src.iloc[1000:].to_parquet(folder / "b.parquet", index=False)
    whole = tmp_path / "all.parquet"
    src.to_parquet(whole, index=False)
    sql = (f"SELECT driver_id, event_timestamp, f1 * 2 AS f1, f0, trips "
           f"FROM read_parquet('{whole}')")
    kiln.features.apply([stats_view(folder, name="from_dir"), stats_view(sql, name="from_sql")])
    entities = make_entities(100)
    out = kiln.features.get_training_set(entities, ["from_dir:f1", "from_sql:f1"],
                                         full_feature_names=True)
    assert list(out.columns) == ["driver_id", "event_timestamp", "from_dir__f1", "from_sql__f1"]
    pd.testing.assert_series_equal(out.from_dir__f1 * 2, out.from_sql__f1, check_names=False)
    with pytest.raises(InvalidArgumentError, match="full_feature_names=True"):
        kiln.features.get_training_set(entities, ["from_dir:f1", "from_sql:f1"])


def test_pinned_version_and_lineage(ws: Workspace, stats: tuple[pd.DataFrame, Path]) -> None:
    kiln.features.apply([stats_view(stats[1], ttl=timedelta(hours=1))])
    kiln.features.apply([stats_view(stats[1], ttl=None)])
    entities = make_entities(100)
    with kiln.start_run(experiment="features") as run:
        pinned = kiln.features.get_training_set(entities, ["driver_stats@1:f1"])
        latest = kiln.features.get_training_set(entities, ["driver_stats:f1"])
    assert pinned.f1.isna().sum() > latest.f1.isna().sum()  # v1 has a ttl, v2 none
    edges = ws.store.edges_to("run", run.run_id)
    assert {(e.src_kind, e.src_id, e.relation) for e in edges} == {
        ("feature_view", "driver_stats@1", "input"), ("feature_view", "driver_stats@2", "input")}


def test_bad_input_is_one_clear_line(ws: Workspace, stats: tuple[pd.DataFrame, Path],
                                     tmp_path: Path) -> None:
    path = stats[1]
    kiln.features.apply([stats_view(path)])
    entities = make_entities(10)
    with pytest.raises(InvalidArgumentError, match="no timestamp column 'event_timestamp'"):
        kiln.features.get_training_set(entities.drop(columns="event_timestamp"), FEATURES)
    with pytest.raises(InvalidArgumentError, match="no column 'driver_id'"):
        kiln.features.get_training_set(entities.rename(columns={"driver_id": "id"}), FEATURES)
    with pytest.raises(NotFoundError, match=r"'nope'.*'driver_stats'"):
        kiln.features.get_training_set(entities, ["nope:f0"])
    with pytest.raises(NotFoundError, match="no feature 'zz'; features: f0, f1, trips"):
        kiln.features.get_training_set(entities, ["driver_stats:zz"])
    with pytest.raises(InvalidArgumentError, match="must be a pandas DataFrame"):
        kiln.features.get_training_set([{"driver_id": 1}], FEATURES)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="'f0' is not accepted; use 'view:feature'"):
        kiln.features.get_training_set(entities, ["f0"])


def test_apply_checks_sources_and_registers_nothing_on_failure(
    ws: Workspace, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.parquet"
    make_stats().drop(columns=["event_timestamp", "trips"]).to_parquet(bad)
    good = tmp_path / "good.parquet"
    make_stats().to_parquet(good)
    with pytest.raises(InvalidArgumentError,
                       match=r"has no column 'event_timestamp' \(timestamp field\), "
                             r"'trips' \(feature\); its columns: driver_id, f0, f1"):
        kiln.features.apply([stats_view(good, name="good"), stats_view(bad, name="bad")])
    with pytest.raises(NotFoundError, match="does not exist"):
        kiln.features.apply([stats_view(tmp_path / "missing.parquet")])
    assert ws.store.list_feature_definitions() == []
    report = kiln.features.apply([DRIVER, stats_view(good, name="good")])
    assert [c.status for c in report.changes] == ["new", "new"]
