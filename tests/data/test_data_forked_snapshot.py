"""The re-add snapshot made in a forked child (``kiln data add`` of a known folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiln.artifacts.local import LocalArtifactStore
from kiln.data.snapshot import ForkedSnapshot, store_snapshot
from kiln.data.statcache import StatCache

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _folder(root: Path, n: int = 30) -> Path:
    data = root / "data"
    data.mkdir()
    for i in range(n):
        (data / f"{i:03d}.txt").write_text(f"row {i}\n")
    return data


def test_the_child_stores_what_an_in_process_snapshot_would(tmp_path: Path) -> None:
    data = _folder(tmp_path)
    store, cache = LocalArtifactStore(tmp_path / "objects"), StatCache(tmp_path / "stat")
    first = store_snapshot(store, data, cache)
    assert cache.knows(data.resolve()) and not cache.knows((tmp_path / "other").resolve())
    (data / "007.txt").write_text("edited\n")
    (data / "new.txt").write_text("new\n")
    forked = ForkedSnapshot.start(lambda: store, data, cache)
    assert forked is not None
    snap = forked.result()
    assert snap is not None and snap.tree != first.tree and snap.file_count == 31
    again = store_snapshot(LocalArtifactStore(tmp_path / "objects2"), data,
                           StatCache(tmp_path / "stat2"))
    assert again.tree == snap.tree  # the same tree as a fresh in-process snapshot
    assert store.get_bytes(snap.tree)  # the child stored the manifest ...
    assert cache.load(data.resolve()).tree == snap.tree  # ... and its stat cache


def test_a_failing_child_gives_none_and_the_caller_does_the_work(tmp_path: Path) -> None:
    data = _folder(tmp_path)
    store, cache = LocalArtifactStore(tmp_path / "objects"), StatCache(tmp_path / "stat")

    def broken() -> LocalArtifactStore:
        raise RuntimeError("the store is gone")

    forked = ForkedSnapshot.start(broken, data, cache)
    assert forked is not None and forked.result() is None
    missing = ForkedSnapshot.start(lambda: store, tmp_path / "nope", cache)
    assert missing is not None and missing.result() is None
    assert store_snapshot(store, data, cache).file_count == 30
