"""The artifact store conformance suite on a local folder and on fsspec's memory filesystem."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from kiln.artifacts import open_artifact_store
from kiln.artifacts.base import ArtifactStore
from kiln.artifacts.fsspec import FsspecArtifactStore
from kiln.artifacts.local import LocalArtifactStore
from kiln.exceptions import ConfigError
from kiln.testing import ArtifactStoreSuite
from kiln.testing.artifacts import Corrupt


class TestLocalStore(ArtifactStoreSuite):
    @pytest.fixture
    def store(self, tmp_path: Path) -> ArtifactStore:
        return LocalArtifactStore(tmp_path / "artifacts")

    @pytest.fixture
    def corrupt(self) -> Corrupt:
        def _corrupt(store: ArtifactStore, sha: str, data: bytes) -> None:
            assert isinstance(store, LocalArtifactStore)
            store.path_of(sha).write_bytes(data)

        return _corrupt


class TestFsspecMemoryStore(ArtifactStoreSuite):
    @pytest.fixture
    def store(self) -> ArtifactStore:
        return open_artifact_store(f"memory://kiln-{uuid.uuid4().hex}")

    @pytest.fixture
    def corrupt(self) -> Corrupt:
        def _corrupt(store: ArtifactStore, sha: str, data: bytes) -> None:
            assert isinstance(store, FsspecArtifactStore)
            store.fs.pipe(store._key(sha), data)

        return _corrupt


def test_local_writes_leave_no_temp_files(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    for i in range(5):
        store.put_bytes(f"object {i}".encode())
    store.put_bytes(b"object 0")
    assert list((tmp_path / ".tmp").iterdir()) == []
    assert sum(1 for p in tmp_path.rglob("*") if p.is_file()) == 5


def test_unknown_url_scheme_is_one_line() -> None:
    with pytest.raises(ConfigError, match="nosuchproto://bucket"):
        open_artifact_store("nosuchproto://bucket/x")
