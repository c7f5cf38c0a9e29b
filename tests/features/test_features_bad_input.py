"""The issue's bad-input list, on both stacks (SQLite + SQLite online store; PostgreSQL +
Redis): one clear line naming the value and what is accepted, and nothing half-registered
after a failure (no dataset version, pointer file, feature definition or materialization
record left behind)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from features_data import ANCHOR, make_entities, make_stats, stats_view

import kiln
from kiln.exceptions import KilnError, NotFoundError
from kiln.workspace import Workspace


def _one_line(exc: pytest.ExceptionInfo[KilnError], *fragments: str) -> None:
    text = str(exc.value)
    assert "\n" not in text
    for fragment in fragments:
        assert fragment in text, text


def test_data_bad_input_leaves_nothing_behind(fws: Workspace, tmp_path: Path) -> None:
    good = tmp_path / "t.parquet"
    make_stats(n=50).to_parquet(good)
    kiln.data.add(good, name="t")
    with pytest.raises(NotFoundError) as e:
        kiln.data.load("nope")
    _one_line(e, "'nope' does not exist", "datasets: 't'")
    with pytest.raises(NotFoundError) as e:
        kiln.data.load("t@9")
    _one_line(e, "'t' has no version 9", "versions: 1")
    with pytest.raises(KilnError) as e:
        kiln.data.load("t@-1")
    _one_line(e, "accepted: NAME, NAME@<version number> or NAME@latest")
    # A failure after the files were hashed and stored: no version, no pointer.
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(KilnError) as e:
        kiln.data.add(broken, name="broken")
    _one_line(e, "broken.parquet cannot be read as parquet")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(KilnError) as e:
        kiln.data.add(empty, name="empty")
    _one_line(e, "holds no files; nothing to add")
    assert fws.datasets() == ["t"]
    assert not (tmp_path / "broken.parquet.kiln").exists()
    assert not (tmp_path / "empty.kiln").exists()
    # A corrupted pointer file: pull and status name it, and what it should hold.
    pointer = tmp_path / "t.parquet.kiln"
    pointer.write_text(pointer.read_text().replace("type: file", "type: folder"))
    for action in (kiln.data.pull, kiln.data.status):
        with pytest.raises(KilnError) as e:
            action(pointer)
        _one_line(e, "t.parquet.kiln' is corrupted (type 'folder' is not file or directory)",
                  "restore it from git")


def test_feature_bad_input_leaves_nothing_behind(fws: Workspace, tmp_path: Path) -> None:
    no_ts = tmp_path / "no_ts.parquet"
    make_stats().drop(columns=["event_timestamp"]).to_parquet(no_ts)
    no_key = tmp_path / "no_key.parquet"
    make_stats().drop(columns=["driver_id"]).to_parquet(no_key)
    good = tmp_path / "good.parquet"
    make_stats().to_parquet(good)
    for source, fragment in ((no_ts, "'event_timestamp' (timestamp field)"),
                             (no_key, "'driver_id' (join key)")):
        with pytest.raises(KilnError) as e:
            # The good view is checked first, then the bad one fails: neither is registered.
            kiln.features.apply([stats_view(good, name="ok"), stats_view(source)])
        _one_line(e, "has no column", fragment, "its columns:")
    assert fws.store.list_feature_definitions() == []
    kiln.features.apply([stats_view(good)])
    entities = make_entities(20)
    with pytest.raises(KilnError) as e:
        kiln.features.get_training_set(entities.drop(columns="event_timestamp"),
                                       ["driver_stats:f0"])
    _one_line(e, "no timestamp column 'event_timestamp'", "its columns: driver_id")
    for bad, fragment in ((["nope:f0"], "'nope'"), (["driver_stats:zz"], "no feature 'zz'"),
                          (["driver_stats"], "use 'view:feature'")):
        with pytest.raises(KilnError) as e:
            kiln.features.get_training_set(entities, bad)
        _one_line(e, fragment)
        with pytest.raises(KilnError) as e:
            kiln.features.get_online_features([{"driver_id": 1000}], bad)
        _one_line(e, fragment)
    # The source disappears before materializing: an error, and no record of progress.
    shutil.move(str(good), tmp_path / "moved.parquet")
    with pytest.raises(KilnError) as e:
        kiln.features.materialize(end=ANCHOR + pd.Timedelta(seconds=1))
    _one_line(e, "driver_stats")
    assert fws.store.list_materializations() == []
    got = kiln.features.get_online_features([{"driver_id": 1000}], ["driver_stats:f0"])
    assert got.values == {"f0": [None]}
