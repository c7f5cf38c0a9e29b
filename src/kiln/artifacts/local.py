"""Artifacts in a local folder: ``<root>/<sha[:2]>/<sha[2:]>``, written by temp file + rename."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from kiln.artifacts._hashing import (
    check_sha,
    chunks,
    copy_verified,
    new_hash,
    verify,
    write_atomically,
)
from kiln.artifacts.base import StoredObject
from kiln.exceptions import NotFoundError


class LocalArtifactStore:
    """The embedded default artifact store.

    >>> import tempfile
    >>> store = LocalArtifactStore(tempfile.mkdtemp())
    >>> obj = store.put_bytes(b"hello")
    >>> store.get_bytes(obj.sha256)
    b'hello'
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.url = str(self.root)
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        """Where the object lives (whether or not it exists)."""
        sha = check_sha(sha256)
        return self.root / sha[:2] / sha[2:]

    #: ``put_*`` accept ``sync=False``: skip the fsync, keeping what SQLite's WAL with
    #: ``synchronous=NORMAL`` guarantees for metadata (a write survives a process crash;
    #: an OS crash may lose it, and a torn object then fails its hash check on read).
    supports_unsynced = True

    def put_file(self, path: Path, *, sync: bool = True) -> StoredObject:
        with open(path, "rb") as f:
            return self.put_stream(f, sync=sync)

    def put_bytes(self, data: bytes, *, sync: bool = True) -> StoredObject:
        digest = new_hash()
        digest.update(data)
        sha = digest.hexdigest()
        if self.path_of(sha).exists():
            return StoredObject(sha, len(data))
        return self.put_stream(io.BytesIO(data), sync=sync)

    def put_stream(self, stream: BinaryIO, *, sync: bool = True) -> StoredObject:
        digest = new_hash()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                for block in chunks(stream):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
                out.flush()
                if sync:
                    os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path_of(sha)
            if target.exists():
                os.unlink(tmp_name)
            else:
                target.parent.mkdir(exist_ok=True)
                os.replace(tmp_name, target)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        return StoredObject(sha, size)

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def get_bytes(self, sha256: str) -> bytes:
        path = self._existing(sha256)
        data = path.read_bytes()
        digest = new_hash()
        digest.update(data)
        verify(check_sha(sha256), digest.hexdigest(), len(data), str(path))
        return data

    def get_file(self, sha256: str, dest: Path) -> Path:
        """Copy the object to ``dest`` (atomically), verifying its hash on the way."""
        src = self._existing(sha256)

        def fill(out: BinaryIO) -> None:
            with open(src, "rb") as f:
                copy_verified(f, out, sha256, str(src))

        return write_atomically(dest, fill)

    def _existing(self, sha256: str) -> Path:
        path = self.path_of(sha256)
        if not path.is_file():
            raise NotFoundError(f"artifact {check_sha(sha256)} is not in the store at {self.url}")
        return path

    def __repr__(self) -> str:
        return f"LocalArtifactStore({self.url!r})"


__all__ = ["LocalArtifactStore"]
