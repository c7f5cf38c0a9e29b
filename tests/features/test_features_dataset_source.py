"""A dataset version as a feature view's source: training sets and materialization read
that version's Parquet files from the artifact store, on both stacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from features_data import ANCHOR, make_entities, make_stats, stats_view

import kiln
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.features import DatasetSource
from kiln.workspace import Workspace

FEATURES = ["driver_stats:f0", "driver_stats:f1", "driver_stats:trips"]


def _versions(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Version 1 and 2 of dataset ``stats``: a folder of two Parquet parts each."""
    v1, v2 = make_stats(seed=0), make_stats(seed=5)
    folder = tmp_path / "stats"
    for frame in (v1, v2):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        frame.iloc[:1000].to_parquet(folder / "part-0.parquet", index=False)
        frame.iloc[1000:].to_parquet(folder / "part-1.parquet", index=False)
        (folder / "README.txt").write_text("not a table")  # non-Parquet files are skipped
        kiln.data.add(folder, name="stats")
    shutil.rmtree(folder)  # only the artifact store has the data now
    return v1, v2


def test_training_set_and_materialization_read_the_pinned_version(
        fws: Workspace, tmp_path: Path) -> None:
    v1, v2 = _versions(tmp_path)
    report = kiln.features.apply([stats_view("stats@1", ttl=None)])
    assert report.changes[-1].status == "new"
    entities = make_entities(200)
    from_v1 = kiln.features.get_training_set(entities, FEATURES)
    direct = tmp_path / "v1.parquet"
    v1.to_parquet(direct, index=False)
    kiln.features.apply([stats_view(direct, ttl=None, name="plain")])
    plain = kiln.features.get_training_set(entities, [f.replace("driver_stats", "plain")
                                                      for f in FEATURES])
    pd.testing.assert_frame_equal(from_v1, plain)
    assert from_v1.f1.notna().sum() > 100
    # Materialize v1, look one driver up: the value is v1's latest row of that driver.
    kiln.features.materialize(["driver_stats"], end=ANCHOR + pd.Timedelta(seconds=1))
    driver = int(v1.driver_id.iloc[0])
    latest = v1[v1.driver_id == driver].sort_values("event_timestamp").iloc[-1]
    got = kiln.features.get_online_features([{"driver_id": driver}], ["driver_stats:f1"])
    assert got.values["f1"] == [pytest.approx(latest.f1)]
    # @latest is pinned when applied: the registered view reads version 2 from then on.
    report = kiln.features.apply([stats_view(DatasetSource("stats@latest"), ttl=None)])
    assert fws.get_feature_view("driver_stats").view.source == DatasetSource("stats@2")
    assert any("stats@1" in d and "stats@2" in d for d in report.changes[-1].details)
    with kiln.start_run(experiment="e") as run:
        from_v2 = kiln.features.get_training_set(entities, FEATURES)
    assert {(e.src_kind, e.src_id) for e in fws.store.edges_to("run", run.run_id)} == {
        ("feature_view", "driver_stats@2"), ("dataset_version", "stats@2")}
    v2.to_parquet(direct, index=False)
    plain = kiln.features.get_training_set(entities, [f.replace("driver_stats", "plain")
                                                      for f in FEATURES])
    pd.testing.assert_frame_equal(from_v2, plain)
    assert not from_v2.f1.equals(from_v1.f1)
    # A DatasetVersion object works as the source too.
    view = stats_view(fws.dataset_version("stats@1"), ttl=None, name="by_object")
    assert view.source == DatasetSource("stats@1")


def test_bad_dataset_sources_register_nothing(ws: Workspace, tmp_path: Path) -> None:
    _versions(tmp_path)
    table = tmp_path / "t.csv"
    make_stats(n=20).to_csv(table, index=False)
    kiln.data.add(table, name="csv_only")
    with pytest.raises(NotFoundError, match="'nope' does not exist"):
        kiln.features.apply([stats_view("nope@1")])
    with pytest.raises(NotFoundError, match="'stats' has no version 9"):
        kiln.features.apply([stats_view("stats@9")])
    with pytest.raises(InvalidArgumentError, match=r"csv_only@1 .* holds no Parquet file"):
        kiln.features.apply([stats_view("csv_only@1")])
    with pytest.raises(InvalidArgumentError, match="'stats@v1' is not accepted"):
        DatasetSource("stats@v1")
    assert ws.store.list_feature_definitions() == []
