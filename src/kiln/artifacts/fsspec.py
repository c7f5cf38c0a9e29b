"""Artifacts on any fsspec filesystem (``s3://``, ``gs://``, ``az://``, ``memory://``...)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from kiln.artifacts._hashing import check_sha, chunks, copy_verified, new_hash, write_atomically
from kiln.artifacts.base import StoredObject
from kiln.exceptions import ConfigError, NotFoundError


class FsspecArtifactStore:
    """Content-addressed objects under ``<url>/<sha[:2]>/<sha[2:]>``.

    Objects are written under ``.tmp/`` and then moved into place, so readers
    never see a partial object (object stores make the final write atomic).
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        try:
            from fsspec.core import url_to_fs
        except ImportError:  # pragma: no cover - fsspec is a core dependency
            raise ConfigError("artifact URLs other than a folder need fsspec") from None
        try:
            self.fs, root = url_to_fs(url, **storage_options)
        except (ImportError, ValueError) as exc:
            raise ConfigError(
                f"artifact store URL {url!r} cannot be opened ({exc}); accepted: a folder, "
                "or an fsspec URL such as s3://bucket/prefix with its driver installed"
            ) from None
        self.url = url
        self.root = root.rstrip("/")

    def _key(self, sha256: str) -> str:
        sha = check_sha(sha256)
        return f"{self.root}/{sha[:2]}/{sha[2:]}"

    def put_file(self, path: Path) -> StoredObject:
        with open(path, "rb") as f:
            return self.put_stream(f)

    def put_bytes(self, data: bytes) -> StoredObject:
        return self.put_stream(io.BytesIO(data))

    def put_stream(self, stream: BinaryIO) -> StoredObject:
        digest = new_hash()
        size = 0
        tmp_key = f"{self.root}/.tmp/{uuid.uuid4().hex}"
        self.fs.makedirs(f"{self.root}/.tmp", exist_ok=True)
        try:
            with self.fs.open(tmp_key, "wb") as out:
                for block in chunks(stream):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
            sha = digest.hexdigest()
            key = self._key(sha)
            if self.fs.exists(key):
                self.fs.rm(tmp_key)
            else:
                self.fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)
                self.fs.mv(tmp_key, key)
        except BaseException:
            if self.fs.exists(tmp_key):
                self.fs.rm(tmp_key)
            raise
        return StoredObject(sha, size)

    def exists(self, sha256: str) -> bool:
        return bool(self.fs.exists(self._key(sha256)))

    def get_bytes(self, sha256: str) -> bytes:
        buf = io.BytesIO()
        self._copy(sha256, buf)
        return buf.getvalue()

    def get_file(self, sha256: str, dest: Path) -> Path:
        """Stream the object into ``dest`` (atomically), verifying its hash on the way."""
        return write_atomically(dest, lambda out: self._copy(sha256, out))

    def _copy(self, sha256: str, out: BinaryIO) -> None:
        key = self._key(sha256)
        if not self.fs.exists(key):
            raise NotFoundError(f"artifact {check_sha(sha256)} is not in the store at {self.url}")
        with self.fs.open(key, "rb") as f:
            copy_verified(f, out, sha256, f"{self.url} ({key})")

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self.url!r})"
