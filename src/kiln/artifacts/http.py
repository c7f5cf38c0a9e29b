"""Artifacts through ``kiln server``: uploads and downloads streamed over HTTP, resumable.

Uploads larger than :attr:`HttpArtifactStore.chunk_size` go in pieces through an
upload session; downloads resume with HTTP ``Range``. Clients that can reach the
object store themselves set ``KILN_ARTIFACTS_URL`` beside ``KILN_SERVER`` and skip
the server for bytes (see docs/server.md).

The client hashes what it sends and verifies what it receives, so a corrupted
object on the server is reported by name here, and nothing is half-written.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from kiln.artifacts._hashing import check_sha, new_hash, verify, write_atomically
from kiln.artifacts.base import StoredObject
from kiln.metadata._http import API, new_client, raise_for_error, unreachable

if TYPE_CHECKING:
    import httpx


class HttpArtifactStore:
    """An :class:`~kiln.artifacts.base.ArtifactStore` served by ``kiln server`` at ``url``."""

    #: Uploads larger than this go through a resumable session, in pieces of this size.
    chunk_size = 8 << 20
    #: How often a broken piece or download is resumed before giving up.
    retries = 3

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
        """Upload ``stream``: in one request when it fits in one piece, otherwise through
        a resumable upload session, one piece at a time (a broken piece is sent again
        from the offset the server reports)."""
        digest = new_hash()
        first = stream.read(self.chunk_size)
        digest.update(first)
        rest = stream.read(1)
        if not rest:
            stored = self._request("POST", f"{API}/artifacts", content=first,
                                   headers={"Content-Type": "application/octet-stream"}).json()
            verify(digest.hexdigest(), stored["sha256"], len(first), f"{self.url} (upload)")
            return StoredObject(stored["sha256"], int(stored["size"]))
        upload_id = self._request("POST", f"{API}/artifacts/uploads").json()["upload_id"]
        offset, piece = 0, first + rest
        while piece:
            if len(piece) < self.chunk_size:
                piece += stream.read(self.chunk_size - len(piece))
            if offset:
                digest.update(piece)
            else:
                digest.update(piece[len(first):])
            offset = self._send_piece(upload_id, offset, piece)
            piece = stream.read(self.chunk_size)
        stored = self._request("POST", f"{API}/artifacts/uploads/{upload_id}/complete",
                               json={"sha256": digest.hexdigest()}).json()
        verify(digest.hexdigest(), stored["sha256"], offset, f"{self.url} (upload)")
        return StoredObject(stored["sha256"], int(stored["size"]))

    def _send_piece(self, upload_id: str, offset: int, piece: bytes) -> int:
        """Append ``piece`` (which starts at ``offset``); on a broken connection ask the
        server how much arrived and send the remainder. Returns the new offset."""
        import httpx

        path = f"{API}/artifacts/uploads/{upload_id}"
        end = offset + len(piece)
        for attempt in range(self.retries + 1):
            try:
                got = self._client.patch(path, content=piece[offset - (end - len(piece)):],
                                         headers={"Upload-Offset": str(offset),
                                                  "Content-Type": "application/octet-stream"})
                raise_for_error(got, self.url)
                return int(got.json()["offset"])
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise unreachable(self.url, exc) from None
                offset = int(self._request("GET", path).json()["offset"])
        return end  # pragma: no cover - the loop returns or raises

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise unreachable(self.url, exc) from None
        raise_for_error(response, self.url)
        return response

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
        """Stream the object into ``out``; a broken connection resumes with an HTTP
        ``Range`` request from the bytes already received."""
        import httpx

        sha = check_sha(sha256)
        digest = new_hash()
        size = 0
        for attempt in range(self.retries + 1):
            headers = {"Range": f"bytes={size}-"} if size else {}
            try:
                with self._client.stream("GET", f"{API}/artifacts/{sha}",
                                         headers=headers) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise_for_error(response, self.url)
                    if size and response.status_code != 206:  # no range: start over
                        out.seek(0)
                        out.truncate()
                        digest, size = new_hash(), 0
                    for block in response.iter_bytes():
                        digest.update(block)
                        out.write(block)
                        size += len(block)
                break
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise unreachable(self.url, exc) from None
        verify(sha, digest.hexdigest(), size, f"{self.url}")


__all__ = ["HttpArtifactStore"]
