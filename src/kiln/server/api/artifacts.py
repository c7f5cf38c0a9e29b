"""REST API of the artifact store: streamed upload and download by sha256.

Large files: downloads honour HTTP ``Range`` (a broken download resumes where it
stopped); uploads can go through an upload session that takes the bytes in pieces
at given offsets, so a broken upload resumes from the offset the server has::

    POST   /artifacts/uploads              -> {"upload_id", "offset": 0}
    PATCH  /artifacts/uploads/{id}         Upload-Offset: N, body = bytes from N
    GET    /artifacts/uploads/{id}         -> {"offset"}  (how much arrived)
    POST   /artifacts/uploads/{id}/complete {"sha256"} -> the stored object
    DELETE /artifacts/uploads/{id}         abandon it

Sessions live as files under ``<server home>/uploads`` so every worker process of
one server sees them.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from kiln.artifacts._hashing import check_sha, verify
from kiln.exceptions import ConflictError, InvalidArgumentError, NotFoundError
from kiln.server.api._common import artifacts
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["artifacts"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]
_SPOOL = 8 << 20  # bodies above this go to a temporary file, never all in memory
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class CompleteIn(BaseModel):
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$",
                               description="The client's hash; the upload fails if it differs")


@router.post("/artifacts", summary="Upload bytes (streamed); returns their sha256 and size")
async def upload(request: Request, _: Editor) -> dict[str, Any]:
    store = artifacts(request)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
        obj = await run_in_threadpool(store.put_stream, spool)  # type: ignore[arg-type]
    return {"sha256": obj.sha256, "size": obj.size}


def _uploads(request: Request) -> Path:
    folder = Path(request.app.state.settings.home) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _session(request: Request, upload_id: str) -> Path:
    if not _UPLOAD_ID.match(upload_id):
        raise InvalidArgumentError(f"upload id {upload_id!r} is not accepted; use the id "
                                   "POST /artifacts/uploads returned")
    path = _uploads(request) / upload_id
    if not path.is_file():
        raise NotFoundError(f"upload {upload_id!r} does not exist (completed, abandoned or "
                            "never started)")
    return path


@router.post("/artifacts/uploads", summary="Start a resumable upload")
def start_upload(request: Request, _: Editor) -> dict[str, Any]:
    upload_id = secrets.token_hex(16)
    (_uploads(request) / upload_id).touch()
    return {"upload_id": upload_id, "offset": 0}


@router.get("/artifacts/uploads/{upload_id}", summary="How many bytes an upload holds")
def upload_offset(upload_id: str, request: Request, _: Editor) -> dict[str, Any]:
    return {"upload_id": upload_id, "offset": _session(request, upload_id).stat().st_size}


@router.patch("/artifacts/uploads/{upload_id}", summary="Append bytes at Upload-Offset")
async def append_upload(upload_id: str, request: Request, _: Editor,
                        upload_offset: Annotated[int, Header(ge=0, le=2**62)]
                        ) -> dict[str, Any]:
    path = _session(request, upload_id)
    with open(path, "r+b") as f:
        have = f.seek(0, 2)
        if upload_offset != have:
            raise ConflictError(f"Upload-Offset {upload_offset} does not match the {have} "
                                f"bytes upload {upload_id!r} holds; resume from {have}")
        async for chunk in request.stream():
            f.write(chunk)
        return {"upload_id": upload_id, "offset": f.tell()}


@router.post("/artifacts/uploads/{upload_id}/complete",
             summary="Store the uploaded bytes; returns their sha256 and size")
def complete_upload(upload_id: str, body: CompleteIn, request: Request, _: Editor
                    ) -> dict[str, Any]:
    path = _session(request, upload_id)
    obj = artifacts(request).put_file(path)
    path.unlink(missing_ok=True)
    if body.sha256 is not None:
        verify(body.sha256, obj.sha256, obj.size, f"upload {upload_id}")
    return {"sha256": obj.sha256, "size": obj.size}


@router.delete("/artifacts/uploads/{upload_id}", summary="Abandon an upload")
def abandon_upload(upload_id: str, request: Request, _: Editor) -> dict[str, Any]:
    _session(request, upload_id).unlink(missing_ok=True)
    return {}


@router.head("/artifacts/{sha256}", summary="Whether an object exists")
def head(sha256: str, request: Request, _: Viewer) -> Response:
    return Response(status_code=200 if artifacts(request).exists(sha256) else 404)


@router.get("/artifacts/{sha256}", response_class=Response,
            summary="Download an object (streamed; HTTP Range resumes a broken download)")
def download(sha256: str, request: Request, _: Viewer) -> Response:
    store = artifacts(request)
    sha = check_sha(sha256)
    locate = getattr(store, "locate", None)
    if locate is not None:
        loc = locate(sha)
        if loc is None:
            raise NotFoundError(f"artifact {sha} is not in the store")
        if not loc.packed:
            return FileResponse(loc.path, media_type="application/octet-stream")
    elif not store.exists(sha):
        raise NotFoundError(f"artifact {sha} is not in the store")
    # Packed objects (small) and remote stores (s3://, gs://...): a verified copy in a
    # temporary file, then streamed, so Range requests work the same.
    folder = tempfile.mkdtemp(prefix="kiln-dl-")
    path = store.get_file(sha, Path(folder) / sha)
    return FileResponse(path, media_type="application/octet-stream",
                        background=BackgroundTask(shutil.rmtree, folder, True))
