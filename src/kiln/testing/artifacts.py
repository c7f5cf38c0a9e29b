"""``ArtifactStoreSuite``: the behaviour every artifact store must show.

Subclass it and provide ``store`` (a new, empty store) and ``corrupt``, a
fixture returning a function ``corrupt(store, sha256, new_bytes)`` that
overwrites an object's bytes behind the store's back.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from kiln.artifacts.base import ArtifactStore
from kiln.artifacts.tree import get_tree, put_tree
from kiln.exceptions import ArtifactCorruptedError, InvalidArgumentError, NotFoundError

Corrupt = Callable[[ArtifactStore, str, bytes], None]


class ArtifactStoreSuite:
    """Conformance tests for :class:`kiln.artifacts.base.ArtifactStore`."""

    @pytest.fixture
    def store(self) -> ArtifactStore:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def corrupt(self) -> Corrupt:  # pragma: no cover - overridden
        raise NotImplementedError

    def test_put_get_roundtrip_and_dedup(self, store: ArtifactStore, tmp_path: Path) -> None:
        data = b"x" * 3_000_000
        a = store.put_bytes(data)
        assert a.sha256 == hashlib.sha256(data).hexdigest() and a.size == len(data)
        f = tmp_path / "f.bin"
        f.write_bytes(data)
        assert store.put_file(f) == a
        assert store.put_stream(io.BytesIO(data)) == a
        assert store.exists(a.sha256) and store.exists("sha256:" + a.sha256)
        assert store.get_bytes(a.sha256) == data
        out = store.get_file(a.sha256, tmp_path / "out" / "copy.bin")
        assert out.read_bytes() == data

    def test_missing_and_malformed_ids(self, store: ArtifactStore, tmp_path: Path) -> None:
        missing = "0" * 64
        assert not store.exists(missing)
        with pytest.raises(NotFoundError, match=missing):
            store.get_bytes(missing)
        with pytest.raises(InvalidArgumentError, match="'nothex'"):
            store.get_bytes("nothex")

    def test_tampered_and_truncated_objects_are_named(
        self, store: ArtifactStore, corrupt: Corrupt, tmp_path: Path
    ) -> None:
        obj = store.put_bytes(b"model weights" * 100)
        corrupt(store, obj.sha256, b"model weights" * 50)  # truncated
        with pytest.raises(ArtifactCorruptedError, match=obj.sha256):
            store.get_bytes(obj.sha256)
        corrupt(store, obj.sha256, b"evil" * 325)  # same size, other bytes
        with pytest.raises(ArtifactCorruptedError, match=obj.sha256):
            store.get_file(obj.sha256, tmp_path / "x")
        assert not (tmp_path / "x").exists()  # nothing half-written

    def test_trees(self, store: ArtifactStore, tmp_path: Path) -> None:
        src = tmp_path / "src"
        (src / "sub").mkdir(parents=True)
        (src / "a.txt").write_text("a")
        (src / "sub" / "b.txt").write_text("b")
        tree = put_tree(store, src)
        assert put_tree(store, src) == tree  # same content, same id
        out = get_tree(store, tree.sha256, tmp_path / "out")
        assert (out / "a.txt").read_text() == "a" and (out / "sub" / "b.txt").read_text() == "b"
