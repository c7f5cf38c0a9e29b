"""Pack files of the local artifact store: packed objects behave like loose ones for every
reader; crashes, corruption, deletion and concurrent writers are handled."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

import pytest

from kiln.artifacts.base import ArtifactStore, StoredObject
from kiln.artifacts.local import LocalArtifactStore
from kiln.artifacts.packs import read_index
from kiln.artifacts.tree import get_tree, put_tree
from kiln.exceptions import ArtifactCorruptedError, NotFoundError
from kiln.testing import ArtifactStoreSuite
from kiln.testing.artifacts import Corrupt


class PackingStore(LocalArtifactStore):
    """A local store that packs everything it is given: the suite then reads packs only."""

    def put_bytes(self, data: bytes, *, sync: bool = True) -> StoredObject:
        with self.packer() as pack:
            return StoredObject(pack.add(data), len(data))

    def put_stream(self, stream: BinaryIO, *, sync: bool = True) -> StoredObject:
        return self.put_bytes(stream.read())

    def put_file(self, path: Path, *, sync: bool = True) -> StoredObject:
        return self.put_bytes(Path(path).read_bytes())


class TestPackedLocalStore(ArtifactStoreSuite):
    @pytest.fixture
    def store(self, tmp_path: Path) -> ArtifactStore:
        return PackingStore(tmp_path / "artifacts")

    @pytest.fixture
    def corrupt(self) -> Corrupt:
        def _corrupt(store: ArtifactStore, sha: str, data: bytes) -> None:
            assert isinstance(store, LocalArtifactStore)
            loc = store.locate(sha)
            assert loc is not None and loc.packed
            # The pack keeps its size (else its index is dropped as a crash's leftover).
            with open(loc.path, "r+b") as f:
                f.seek(loc.offset)
                f.write(data[:loc.size].ljust(loc.size, b"\0"))

        return _corrupt


def _packed(store: LocalArtifactStore, *blobs: bytes) -> list[str]:
    with store.packer() as pack:
        return [pack.add(b) for b in blobs]


def test_packed_objects_are_read_through_every_api(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "a")
    blobs = [f"object {i}".encode() * (i + 1) for i in range(50)]
    shas = _packed(store, *blobs)
    assert shas == [hashlib.sha256(b).hexdigest() for b in blobs]
    assert [p.suffix for p in sorted((tmp_path / "a" / "packs").iterdir())] == [".idx", ".pack"]
    fresh = LocalArtifactStore(tmp_path / "a")  # another process: reads the index lazily
    for sha, blob in zip(shas, blobs, strict=True):
        assert fresh.exists(sha) and fresh.exists("sha256:" + sha)
        assert fresh.has_object(sha, len(blob)) and not fresh.has_object(sha, len(blob) + 1)
        assert fresh.get_bytes(sha) == blob
        assert fresh.get_file(sha, tmp_path / "out" / sha).read_bytes() == blob
        loc = fresh.locate(sha)
        assert loc is not None and loc.packed and loc.size == len(blob)
        assert not fresh.path_of(sha).exists()  # no loose file
    assert fresh.put_bytes(blobs[0]).sha256 == shas[0]  # deduplicated against the pack
    assert not fresh.path_of(shas[0]).exists()
    # A pack published after the first lookup is found by the same instance.
    (late,) = _packed(store, b"late")
    assert fresh.get_bytes(late) == b"late"


def test_index_is_sorted_digests_with_offsets_and_sizes(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    shas = _packed(store, b"bb", b"a", b"ccc", b"a")  # the repeat is stored once
    (idx,) = (tmp_path / "packs").glob("*.idx")
    table = read_index(idx)
    assert table is not None
    digests, offsets, sizes = table
    assert digests == sorted(set(shas))
    assert dict(zip(digests, zip(offsets, sizes, strict=True), strict=True)) == {
        shas[0]: (0, 2), shas[1]: (2, 1), shas[2]: (3, 3)}
    assert idx.with_suffix(".pack").read_bytes() == b"bbaccc"
    assert {p.stat().st_mode & 0o777 for p in (idx, idx.with_suffix(".pack"))} == {0o644}


def test_a_pack_without_its_index_is_ignored(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    (sha,) = _packed(store, b"orphan")
    (idx,) = (tmp_path / "packs").glob("*.idx")
    idx.unlink()  # as if the writer crashed between the two renames
    fresh = LocalArtifactStore(tmp_path)
    assert not fresh.exists(sha)
    with pytest.raises(NotFoundError, match=sha):
        fresh.get_bytes(sha)
    assert _packed(fresh, b"orphan") == [sha]  # stored again
    assert fresh.get_bytes(sha) == b"orphan"


def test_a_torn_index_is_ignored(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    (sha,) = _packed(store, b"torn")
    (idx,) = (tmp_path / "packs").glob("*.idx")
    idx.write_bytes(idx.read_bytes()[:-1] + b"\0")  # checksum no longer matches
    assert not LocalArtifactStore(tmp_path).exists(sha)


def test_a_corrupted_packed_object_names_its_sha(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    good, bad = _packed(store, b"good bytes", b"bad bytes!")
    loc = store.locate(bad)
    assert loc is not None
    with open(loc.path, "r+b") as f:
        f.seek(loc.offset)
        f.write(b"BAD")
    with pytest.raises(ArtifactCorruptedError, match=f"artifact {bad} at .*pack.* is corrupted"):
        store.get_bytes(bad)
    with pytest.raises(ArtifactCorruptedError, match=bad):
        store.get_file(bad, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert store.get_bytes(good) == b"good bytes"


def test_delete_rewrites_the_pack_without_the_object(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    keep, gone = _packed(store, b"keep me", b"forget me")
    loose = store.put_bytes(b"loose").sha256
    reader = LocalArtifactStore(tmp_path)
    assert reader.get_bytes(gone) == b"forget me"  # its index is loaded before the delete
    assert store.delete(gone) and store.delete(loose)
    assert not store.delete(gone)
    assert not store.exists(gone) and not store.exists(loose)
    packs = list((tmp_path / "packs").glob("*.pack"))
    assert len(packs) == 1 and b"forget me" not in packs[0].read_bytes()
    assert reader.get_bytes(keep) == b"keep me"  # the old pack is gone: found again
    assert not reader.exists(gone)


def test_two_writers_packing_the_same_objects_are_harmless(tmp_path: Path) -> None:
    a, b = LocalArtifactStore(tmp_path), LocalArtifactStore(tmp_path)
    with a.packer() as pa, b.packer() as pb:
        sha = pa.add(b"same")
        assert pb.add(b"same") == sha
        pb.add(b"other")
    assert len(list((tmp_path / "packs").glob("*.idx"))) == 2
    assert LocalArtifactStore(tmp_path).get_bytes(sha) == b"same"
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_a_failed_packer_publishes_nothing(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    with pytest.raises(RuntimeError), store.packer() as pack:
        sha = pack.add(b"half done")
        raise RuntimeError("interrupted")
    assert not store.exists(sha)
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_trees_of_packed_files_keep_their_ids(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        (src / f"{i}.txt").write_text(str(i))
    loose = put_tree(LocalArtifactStore(tmp_path / "loose"), src)
    packed_store = PackingStore(tmp_path / "packed")
    assert put_tree(packed_store, src) == loose
    out = get_tree(packed_store, loose.sha256, tmp_path / "out")
    assert sorted(os.listdir(out)) == [f"{i}.txt" for i in range(5)]


def test_locate_many_finds_packed_loose_and_missing_objects(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "objects")
    with store.packer() as pack:
        packed = [pack.add(f"packed {i}".encode()) for i in range(5)]
    loose = store.put_bytes(b"a loose object").sha256
    missing = "0" * 64
    found = store.locate_many([*packed, loose, missing])
    assert found == [store.locate(sha) for sha in [*packed, loose, missing]]
    assert [f.packed for f in found[:6] if f is not None] == [True] * 5 + [False]
    assert found[-1] is None
