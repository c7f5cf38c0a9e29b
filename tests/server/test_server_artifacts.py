"""Large artifacts through the server: uploads in resumable pieces, downloads resumed with
HTTP Range after a broken connection, and clients that reach the object store directly."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from kiln.artifacts.http import HttpArtifactStore
from kiln.exceptions import StoreUnavailableError

if TYPE_CHECKING:
    from conftest import LiveServer

CHUNK = 64 << 10


class FlakyTransport(httpx.BaseTransport):
    """Real HTTP, except that the chosen requests break once: an upload piece is cut
    off after it was sent, a download stream is cut after ``cut`` bytes."""

    def __init__(self, fail_patch: set[int], cut_download: int | None = None) -> None:
        self.real = httpx.HTTPTransport()
        self.fail_patch, self.cut = fail_patch, cut_download
        self.patches = 0
        self.ranges: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.real.handle_request(request)
        if request.method == "PATCH":
            self.patches += 1
            if self.patches in self.fail_patch:
                response.read()
                raise httpx.ReadError("connection reset (test)")
        if request.method == "GET" and "/artifacts/" in request.url.path and \
                "uploads" not in request.url.path:
            self.ranges.append(request.headers.get("range", ""))
            if self.cut is not None:
                cut, self.cut = self.cut, None
                return httpx.Response(response.status_code, headers=response.headers,
                                      stream=_Cut(response.stream, cut))
        return response


class _Cut(httpx.SyncByteStream):
    def __init__(self, inner: Any, limit: int) -> None:
        self.inner, self.limit = inner, limit

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for block in self.inner:
            block = block[: self.limit - sent]
            sent += len(block)
            yield block
            if sent >= self.limit:
                raise httpx.ReadError("connection reset mid-download (test)")

    def close(self) -> None:
        self.inner.close()


def _store(live: LiveServer, transport: httpx.BaseTransport | None = None
           ) -> HttpArtifactStore:
    store = HttpArtifactStore(live.url)
    store.chunk_size = CHUNK
    if transport is not None:
        store._client = httpx.Client(base_url=live.url, transport=transport, timeout=60)
    return store


def test_upload_larger_than_a_chunk_resumes_after_broken_pieces(live: LiveServer,
                                                                 tmp_path: Path) -> None:
    data = os.urandom(5 * CHUNK + 123)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    flaky = FlakyTransport(fail_patch={2, 5})
    store = _store(live, flaky)
    obj = store.put_file(src)
    assert obj.sha256 == hashlib.sha256(data).hexdigest() and obj.size == len(data)
    assert flaky.patches == 6 + 2  # six pieces, two of them sent again
    assert live.artifacts.get_bytes(obj.sha256) == data
    small = store.put_bytes(b"tiny")  # one request, no session
    assert small.size == 4 and flaky.patches == 8


def test_download_resumes_with_range(live: LiveServer, tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK)
    obj = live.artifacts.put_bytes(data)
    flaky = FlakyTransport(set(), cut_download=CHUNK + 7)
    store = _store(live, flaky)
    assert store.get_file(obj.sha256, tmp_path / "copy.bin").read_bytes() == data
    assert flaky.ranges == ["", f"bytes={CHUNK + 7}-"]


def test_range_and_upload_session_over_plain_http(live: LiveServer) -> None:
    data = bytes(range(256)) * 1000
    obj = live.artifacts.put_bytes(data)
    api = f"{live.url}/api/v1"
    r = httpx.get(f"{api}/artifacts/{obj.sha256}", headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.content == data[1000:2000]
    assert r.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    up = httpx.post(f"{api}/artifacts/uploads").json()
    path = f"{api}/artifacts/uploads/{up['upload_id']}"
    assert httpx.patch(path, content=data[:500], headers={"Upload-Offset": "0"}).json()[
        "offset"] == 500
    r = httpx.patch(path, content=data[100:], headers={"Upload-Offset": "100"})
    assert r.status_code == 409 and "resume from 500" in r.json()["error"]["message"]
    assert httpx.get(path).json()["offset"] == 500
    httpx.patch(path, content=data[500:], headers={"Upload-Offset": "500"})
    r = httpx.post(f"{path}/complete", json={"sha256": obj.sha256})
    assert r.json() == {"sha256": obj.sha256, "size": len(data)}
    assert httpx.get(path).status_code == 404
    r = httpx.get(f"{api}/artifacts/uploads/..%2F..%2Fetc")
    assert r.status_code in (400, 404)


def test_broken_server_is_named_after_the_retries(live: LiveServer) -> None:
    store = _store(live, FlakyTransport(fail_patch=set(range(1, 100))))
    with pytest.raises(StoreUnavailableError, match="cannot reach the kiln server"):
        store.put_bytes(os.urandom(2 * CHUNK + 1))


def test_client_with_object_store_access_skips_the_server(live: LiveServer, tmp_path: Path
                                                          ) -> None:
    from kiln.artifacts.local import LocalArtifactStore
    from kiln.settings import Settings
    from kiln.workspace import Workspace

    shared = str(live.artifacts.root)
    ws = Workspace(settings=Settings(home=tmp_path / "c", server=live.url,
                                     artifacts_url=shared))
    assert isinstance(ws.artifacts, LocalArtifactStore)
    obj = ws.artifacts.put_bytes(b"direct")
    assert live.artifacts.exists(obj.sha256)
    ws.close()
    via = Workspace(settings=Settings(home=tmp_path / "d", server=live.url))
    assert isinstance(via.artifacts, HttpArtifactStore)
    via.close()


def test_packed_objects_download_with_range(live: LiveServer, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    with live.artifacts.packer() as pack:  # published after the server opened its store
        sha = pack.add(data)
        pack.add(b"a neighbour in the same pack")
    assert not live.artifacts.path_of(sha).exists()
    api = f"{live.url}/api/v1"
    r = httpx.get(f"{api}/artifacts/{sha}", headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.content == data[1000:2000]
    assert r.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    assert httpx.get(f"{api}/artifacts/{sha}").content == data
    assert httpx.head(f"{api}/artifacts/{sha}").status_code == 200
    assert httpx.get(f"{api}/artifacts/{'0' * 64}").status_code == 404
    assert _store(live).get_file(sha, tmp_path / "copy.bin").read_bytes() == data
