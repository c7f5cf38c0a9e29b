"""Data versions through the public API, as a user runs them (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kiln
import kiln.data
from kiln.exceptions import InvalidArgumentError, NoActiveRunError, NotFoundError
from kiln.workspace import Workspace


def _frame(seed: int = 0, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(0, 5, n),
                         "c": rng.choice(["a", "b", "c"], n)})


def _tree(root: Path, n: int = 30) -> Path:
    for i in range(n):
        sub = root / f"part{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.bin").write_bytes(f"content {i}".encode())
    return root


def test_add_a_table_records_rows_schema_and_writes_a_pointer(ws: Workspace,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    _frame().to_parquet(path)
    dv = kiln.data.add(path, name="train")
    assert (dv.name, dv.version, dv.kind, dv.file_count, dv.rows) == ("train", 1, "file", 1, 200)
    assert dv.size == path.stat().st_size and dv.user == ws.user
    assert dv.schema is not None and [c["name"] for c in dv.schema["columns"]] == ["x", "k", "c"]
    pointer = (tmp_path / "train.parquet.kiln").read_text()
    assert "name: train" in pointer and f"tree: {dv.tree}" in pointer
    # Same content again: the same version, nothing new recorded.
    assert kiln.data.add(path, name="train").version == 1
    _frame(seed=1).to_parquet(path)
    assert kiln.data.add(path, name="train").version == 2
    assert [v.version for v in kiln.data.versions("train")] == [1, 2]
    df = kiln.data.load("train@1")
    assert isinstance(df, pd.DataFrame)
    pd.testing.assert_frame_equal(df, _frame())


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_csv_and_json_lines_are_tables(ws: Workspace, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"t{suffix}"
    frame = _frame(n=50)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    dv = kiln.data.add(path, name="t")
    assert dv.rows == 50
    loaded = kiln.data.load("t")
    assert isinstance(loaded, pd.DataFrame) and list(loaded.columns) == ["x", "k", "c"]


def test_directories_are_stored_file_by_file_and_pulled_back(ws: Workspace,
                                                             tmp_path: Path) -> None:
    data = _tree(tmp_path / "images")
    (data / "part0" / "dup.bin").write_bytes(b"content 0")  # same bytes as part0/f0.bin
    dv = kiln.data.add(data, name="images")
    assert (dv.kind, dv.file_count, dv.rows) == ("directory", 31, None)
    assert kiln.data.status(data).clean
    shutil.rmtree(data)
    assert kiln.data.status(data).removed  # everything is gone
    assert kiln.data.pull(tmp_path / "images.kiln").written == 31
    assert (data / "part0" / "dup.bin").read_bytes() == b"content 0"
    assert kiln.data.status(data).clean
    # A second pull finds everything in place.
    assert kiln.data.pull(tmp_path / "images.kiln").written == 0
    out = kiln.data.get("images@1", tmp_path / "copy")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())
    loaded = kiln.data.load("images")
    assert isinstance(loaded, Path) and (loaded / "part1" / "f1.bin").read_bytes() == b"content 1"


def test_status_and_diff_name_added_removed_and_changed_files(ws: Workspace,
                                                              tmp_path: Path) -> None:
    data = _tree(tmp_path / "d")
    kiln.data.add(data, name="d")
    (data / "part1" / "f1.bin").write_bytes(b"changed")
    (data / "part2" / "f2.bin").unlink()
    (data / "new.bin").write_bytes(b"new")
    st = kiln.data.status(data)
    assert (st.added, st.removed, st.modified) == (["new.bin"], ["part2/f2.bin"], ["part1/f1.bin"])
    kiln.data.add(data, name="d")
    d = kiln.data.diff("d@1", "d@2")
    assert (d.added, d.removed, d.changed) == (["new.bin"], ["part2/f2.bin"], ["part1/f1.bin"])
    assert kiln.data.diff("d@2", "d@2").identical
    # The files status hashed were stored by the add that followed: a pull gets them back.
    shutil.rmtree(data)
    assert kiln.data.pull(tmp_path / "d.kiln").written == 30
    assert (data / "part1" / "f1.bin").read_bytes() == b"changed"


def test_unchanged_size_and_mtime_are_not_rehashed(ws: Workspace, tmp_path: Path) -> None:
    data = _tree(tmp_path / "d")
    kiln.data.add(data, name="d")
    target = data / "part0" / "f0.bin"
    st = target.stat()
    target.write_bytes(b"CONTENT 0")  # same size
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    # The stat cache trusts size + mtime, as git's index does: no re-hash, no change seen.
    assert kiln.data.status(data).clean
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert kiln.data.status(data).modified == ["part0/f0.bin"]
    # A file replaced by another one (a new inode) with the same size and mtime is seen.
    other = data / "part1" / "f1.bin"
    st1 = other.stat()
    fresh = tmp_path / "fresh.bin"
    fresh.write_bytes(b"CONTENT 1")
    os.utime(fresh, ns=(st1.st_atime_ns, st1.st_mtime_ns))
    os.replace(fresh, other)
    assert kiln.data.status(data).modified == ["part0/f0.bin", "part1/f1.bin"]


def test_table_diff_reports_rows_schema_and_statistics(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    _frame().to_parquet(path)
    kiln.data.add(path, name="t")
    changed = _frame(n=150).drop(columns=["k"]).assign(x=lambda f: f.x + 5, extra=1.0)
    changed.to_parquet(path)
    kiln.data.add(path, name="t")
    d = kiln.data.diff("t@1", "t@2")
    assert d.changed == ["t.parquet"]
    assert d.rows == (200, 150)
    assert (d.columns_added, d.columns_removed) == (["extra"], ["k"])
    stats = {(c["column"], c["stat"]) for c in d.stat_changes}
    assert ("x", "mean") in stats


def test_load_inside_a_run_records_lineage(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    _frame(n=10).to_csv(path, index=False)
    kiln.data.add(path, name="t")
    with kiln.start_run(experiment="e") as run:
        kiln.data.load("t@latest")
        explicit = kiln.log_input("t@1")
    assert explicit.ref == "t@1"
    edges = ws.store.edges_to("run", run.run_id)
    assert [(e.src_kind, e.src_id, e.relation) for e in edges] == \
        [("dataset_version", "t@1", "input")] * 2
    with pytest.raises(NoActiveRunError):
        kiln.log_input("t@1")


def test_bad_references_and_pointers_are_named(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    _frame(n=10).to_csv(path, index=False)
    kiln.data.add(path, name="t")
    with pytest.raises(NotFoundError, match="'nope' does not exist; datasets: 't'"):
        kiln.data.load("nope")
    with pytest.raises(NotFoundError, match="'t' has no version 4; versions: 1"):
        kiln.data.load("t@4")
    with pytest.raises(InvalidArgumentError, match="accepted: NAME, NAME@<version number>"):
        kiln.data.load("t@v2")
    with pytest.raises(InvalidArgumentError, match="dataset name"):
        kiln.data.add(path, name="bad name")
    with pytest.raises(NotFoundError, match="does not exist"):
        kiln.data.add(tmp_path / "missing", name="m")
    pointer = tmp_path / "t.csv.kiln"
    pointer.write_text(pointer.read_text().replace("tree: ", "tree: zz"))
    with pytest.raises(InvalidArgumentError, match=r"t.csv.kiln' is corrupted \(tree"):
        kiln.data.pull(pointer)
    pointer.write_bytes(b"\x00\xff garbage [")
    with pytest.raises(InvalidArgumentError, match=r"corrupted|cannot be read"):
        kiln.data.status(path)
    assert [v.version for v in kiln.data.versions("t")] == [1]


@pytest.mark.postgres
def test_versions_on_postgresql(pg_ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    _frame().to_parquet(path)
    kiln.data.add(path, name="t")
    _frame(seed=2).to_parquet(path)
    kiln.data.add(path, name="t")
    assert [v.version for v in kiln.data.versions("t")] == [1, 2]
    assert kiln.data.diff("t@1", "t@2").changed == ["t.parquet"]
    report = kiln.data.validate("t@2", reference="t@1")
    assert report.rows == 200
    with kiln.start_run(experiment="e") as run:
        kiln.data.load("t@2")
    assert pg_ws.store.edges_to("run", run.run_id)[0].src_id == "t@2"


def test_pull_and_get_make_a_folder_match_the_version_exactly(ws: Workspace,
                                                              tmp_path: Path) -> None:
    data = _tree(tmp_path / "d")
    kiln.data.add(data, name="d")
    (data / "part0" / "f0.bin").write_bytes(b"edited")           # changed
    (data / "part1" / "f1.bin").unlink()                          # missing
    (data / "extra.txt").write_text("not in the version")         # extra file
    (data / "junk" / "deep").mkdir(parents=True)
    (data / "junk" / "deep" / "x.bin").write_bytes(b"x")          # extra, in new folders
    done = kiln.data.pull(tmp_path / "d.kiln")
    assert done.written == 2
    assert done.removed == ["extra.txt", "junk/deep/x.bin"]
    assert not (data / "junk").exists()  # the folders it leaves empty go too
    assert (data / "part0" / "f0.bin").read_bytes() == b"content 0"
    assert kiln.data.status(data).clean
    assert kiln.data.pull(tmp_path / "d.kiln").removed == []
    # get into a folder holding another version's files: the same exact match.
    (data / "new.bin").write_bytes(b"new")
    kiln.data.add(data, name="d")
    out = kiln.data.get("d@2", tmp_path / "copy")
    (out / "stale.bin").write_bytes(b"stale")
    ws.get_dataset("d@1", out)
    assert not (out / "new.bin").exists() and not (out / "stale.bin").exists()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        _files(ws, "d@1")
    assert (out / "part0" / "f0.bin").read_bytes() == b"content 0"
    # A folder kiln never wrote is not emptied: an error, and nothing removed.
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(InvalidArgumentError, match=r"holds 1 files that the version does "
                                                   r"not \(notes.txt\) and kiln did not"):
        kiln.data.get("d@1", mine)
    assert (mine / "notes.txt").read_text() == "mine"


def _files(ws: Workspace, ref: str) -> list[str]:
    from kiln.data.snapshot import load_manifest

    return sorted(load_manifest(ws.artifacts, ws.dataset_version(ref).tree))


def test_manifest_is_byte_for_byte_the_json_it_always_was() -> None:
    import json

    from kiln.artifacts.tree import MANIFEST_KIND
    from kiln.data.snapshot import manifest_bytes

    for rels in (["b/x.bin", "a.txt", "a/b", "a-b", "a0"],
                 ["naïve/é.csv", 'quote"d', "back\\slash", "tab\there", "z"]):
        hexes = [f"{i:064x}" for i in range(len(rels))]
        sizes = [i * 1000 for i in range(len(rels))]
        expected = json.dumps({"kind": MANIFEST_KIND, "files": {
            r: {"sha256": h, "size": n} for r, h, n in zip(rels, hexes, sizes, strict=True)}},
            sort_keys=True).encode()
        assert manifest_bytes(rels, hexes, sizes) == expected


def test_many_small_files_are_hashed_on_every_core_with_the_same_tree(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above a file count, hashing forks a process per core; the version is the same."""
    from kiln.data import snapshot

    data = _tree(tmp_path / "many", n=300)
    threaded = kiln.data.add(data, name="threaded")
    (data / "part1" / "new.bin").write_bytes(b"only in the second version")
    monkeypatch.setattr(snapshot, "_FORK_MIN", 100)
    monkeypatch.setattr(snapshot, "_FORK_BATCH", 64)
    forks: list[int] = []
    real = snapshot._forked
    monkeypatch.setattr(snapshot, "_forked", lambda jobs, *a: forks.append(len(jobs)) or real(
        jobs, *a))
    shutil.rmtree(Path(ws.settings.home) / "cache" / "stat")  # forget every hash
    forked = kiln.data.add(data, name="forked")
    assert forked.file_count == threaded.file_count + 1 == 301 and forks == [301]
    (data / "part1" / "new.bin").unlink()
    again = kiln.data.add(data, name="again")  # the stat cache knows every file now
    assert again.tree == threaded.tree
    out = kiln.data.get("forked@1", tmp_path / "copy")
    assert (out / "part1" / "new.bin").read_bytes() == b"only in the second version"
    assert (out / "part2" / "f299.bin").read_bytes() == b"content 299"


def _objects(ws: Workspace) -> tuple[int, int]:
    """``(packed, loose)`` object counts of the workspace's local artifact store."""
    from kiln.artifacts.packs import read_index

    root = Path(ws.artifacts.url)
    packed = 0
    for idx in (root / "packs").glob("*.idx"):
        table = read_index(idx)
        assert table is not None
        packed += len(table[0])
    loose = sum(1 for p in root.glob("??/*") if p.is_file())
    return packed, loose


def test_many_small_files_go_into_packs_and_are_pulled_back(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiln.data import snapshot

    monkeypatch.setattr(snapshot, "_PACK_MIN", 10)
    data = _tree(tmp_path / "d", n=100)
    (data / "big.bin").write_bytes(os.urandom(2 << 20))  # above _PACK_MAX: stays loose
    dv = kiln.data.add(data, name="d")
    assert _objects(ws) == (100, 2)  # the files in a pack; the big one and the manifest loose
    before = {p.relative_to(data).as_posix(): p.read_bytes() for p in data.rglob("*")
              if p.is_file()}
    shutil.rmtree(data)
    assert kiln.data.pull(tmp_path / "d.kiln").written == 101
    assert {p.relative_to(data).as_posix(): p.read_bytes() for p in data.rglob("*")
            if p.is_file()} == before
    assert kiln.data.status(data).clean
    loaded = kiln.data.load("d")  # packed objects have no file of their own: a copy
    assert isinstance(loaded, Path) and (loaded / "part2" / "f5.bin").read_bytes() == \
        b"content 5"
    # The tree id is the content's, wherever the objects live.
    monkeypatch.setattr(snapshot, "_PACK_MIN", 10_000)
    shutil.rmtree(Path(ws.settings.home) / "cache" / "stat")
    assert kiln.data.add(data, name="loose").tree == dv.tree


def test_overlapping_folders_share_packed_objects(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiln.data import snapshot

    monkeypatch.setattr(snapshot, "_PACK_MIN", 10)
    first = _tree(tmp_path / "a", n=60)
    kiln.data.add(first, name="a")
    second = tmp_path / "b"
    shutil.copytree(first, second)  # other files (no stat cache), the same bytes
    for i in range(60, 90):
        (second / f"g{i}.bin").write_bytes(f"content {i}".encode())
    kiln.data.add(second, name="b")
    packed, _ = _objects(ws)
    assert packed == 90  # 60 shared, 30 new
    shutil.rmtree(second)
    assert kiln.data.pull(tmp_path / "b.kiln").written == 90
    assert (second / "g89.bin").read_bytes() == b"content 89"


def test_forked_hashing_writes_a_pack_per_batch(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiln.data import snapshot

    monkeypatch.setattr(snapshot, "_PACK_MIN", 10)
    monkeypatch.setattr(snapshot, "_FORK_MIN", 100)
    monkeypatch.setattr(snapshot, "_FORK_BATCH", 64)
    data = _tree(tmp_path / "d", n=300)
    kiln.data.add(data, name="d")
    assert _objects(ws) == (300, 1)
    assert len(list((Path(ws.artifacts.url) / "packs").glob("*.idx"))) == 5  # 300 / 64
    shutil.rmtree(data)
    kiln.data.pull(tmp_path / "d.kiln")
    assert (data / "part2" / "f299.bin").read_bytes() == b"content 299"


def test_objects_of_a_pack_that_lost_its_index_are_stored_again(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiln.data import snapshot

    monkeypatch.setattr(snapshot, "_PACK_MIN", 10)
    data = _tree(tmp_path / "d", n=40)
    kiln.data.add(data, name="d")
    # A crash between the pack's rename and its index's (the add never saved its stat cache)
    for idx in (Path(ws.artifacts.url) / "packs").glob("*.idx"):
        idx.unlink()
    shutil.rmtree(Path(ws.settings.home) / "cache" / "stat")
    ws.artifacts.refresh_packs()  # type: ignore[attr-defined]
    assert kiln.data.add(data, name="d").version == 1  # same tree; the objects re-stored
    assert _objects(ws) == (40, 1)
    shutil.rmtree(data)
    assert kiln.data.pull(tmp_path / "d.kiln").written == 40


def test_a_small_file_that_grew_since_its_listing_is_read_whole(tmp_path: Path) -> None:
    from kiln.data.snapshot import _read_small

    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 3_000_000)
    assert _read_small(str(path), 10) == b"x" * 3_000_000
    assert _read_small(str(path), 3_000_000) == b"x" * 3_000_000
    assert _read_small(str(path), 5_000_000) == b"x" * 3_000_000
