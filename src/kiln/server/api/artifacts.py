"""REST API of the artifact store: streamed upload and download by sha256."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from kiln.artifacts._hashing import check_sha
from kiln.exceptions import NotFoundError
from kiln.server.api._common import artifacts
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["artifacts"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]
_SPOOL = 8 << 20  # bodies above this go to a temporary file, never all in memory


@router.post("/artifacts", summary="Upload bytes (streamed); returns their sha256 and size")
async def upload(request: Request, _: Editor) -> dict[str, Any]:
    store = artifacts(request)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
        obj = await run_in_threadpool(store.put_stream, spool)  # type: ignore[arg-type]
    return {"sha256": obj.sha256, "size": obj.size}


@router.head("/artifacts/{sha256}", summary="Whether an object exists")
def head(sha256: str, request: Request, _: Viewer) -> Response:
    return Response(status_code=200 if artifacts(request).exists(sha256) else 404)


@router.get("/artifacts/{sha256}", summary="Download an object (streamed)",
            response_class=Response)
def download(sha256: str, request: Request, _: Viewer) -> Response:
    store = artifacts(request)
    sha = check_sha(sha256)
    path_of = getattr(store, "path_of", None)
    if path_of is not None:
        path = path_of(sha)
        if not path.is_file():
            raise NotFoundError(f"artifact {sha} is not in the store")
        return FileResponse(path, media_type="application/octet-stream")
    if not store.exists(sha):
        raise NotFoundError(f"artifact {sha} is not in the store")
    # Remote stores (s3://, gs://...): copy to a temporary file, then stream it.
    folder = tempfile.mkdtemp(prefix="kiln-dl-")
    path = store.get_file(sha, Path(folder) / sha)
    return FileResponse(path, media_type="application/octet-stream",
                        background=BackgroundTask(shutil.rmtree, folder, True))
