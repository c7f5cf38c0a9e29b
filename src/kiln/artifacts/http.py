"""Artifacts through ``kiln server``: uploads and downloads streamed over HTTP.

The client hashes what it sends and verifies what it receives, so a corrupted
object on the server is reported by name here, and nothing is half-written.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kiln.artifacts._hashing import check_sha, chunks, new_hash, verify, write_atomically
from kiln.artifacts.base import StoredObject
from kiln.metadata._http import API, new_client, raise_for_error, unreachable


class HttpArtifactStore:
    """An :class:`~kiln.artifacts.base.ArtifactStore` served by ``kiln server`` at ``url``."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        token = token if token is not None else os.environ.get("KILN_TOKEN", "")
        self._client = new_client(self.url, token or None, timeout=600.0)

    def __repr__(self) -> str:
        return f"HttpArtifactStore({self.url!r})"

    def close(self) -> None:
        self._client.close()

    def put_file(self, path: Path) -> StoredObject:
        with open(path, "rb") as f:
            return self.put_stream(f)

    def put_bytes(self, data: bytes) -> StoredObject:
        return self.put_stream(io.BytesIO(data))

    def put_stream(self, stream: BinaryIO) -> StoredObject:
        import httpx

        digest = new_hash()
        size = 0

        def body() -> Iterator[bytes]:
            nonlocal size
            for block in chunks(stream):
                digest.update(block)
                size += len(block)
                yield block

        try:
            response = self._client.post(f"{API}/artifacts", content=body(),
                                         headers={"Content-Type": "application/octet-stream"})
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc) from None
        raise_for_error(response, self.url)
        stored = response.json()
        verify(digest.hexdigest(), stored["sha256"], size, f"{self.url} (upload)")
        return StoredObject(stored["sha256"], int(stored["size"]))

    def exists(self, sha256: str) -> bool:
        import httpx

        sha = check_sha(sha256)
        try:
            response = self._client.head(f"{API}/artifacts/{sha}")
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc) from None
        if response.status_code == 404:
            return False
        raise_for_error(response, self.url)
        return True

    def get_bytes(self, sha256: str) -> bytes:
        buf = io.BytesIO()
        self._download(sha256, buf)
        return buf.getvalue()

    def get_file(self, sha256: str, dest: Path) -> Path:
        """Stream the object into ``dest`` (atomically), verifying its hash on the way."""
        return write_atomically(dest, lambda out: self._download(sha256, out))

    def _download(self, sha256: str, out: BinaryIO) -> None:
        import httpx

        sha = check_sha(sha256)
        digest = new_hash()
        size = 0
        try:
            with self._client.stream("GET", f"{API}/artifacts/{sha}") as response:
                if response.status_code >= 400:
                    response.read()
                    raise_for_error(response, self.url)
                for block in response.iter_bytes(1 << 20):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc) from None
        verify(sha, digest.hexdigest(), size, f"{self.url}")


__all__ = ["HttpArtifactStore"]
