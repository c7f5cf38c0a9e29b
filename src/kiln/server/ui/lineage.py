"""Page of lineage: what an object was made from, and what used it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kiln.exceptions import KilnError
from kiln.server.security import Principal
from kiln.server.ui._common import page_error, render, store, user

router = APIRouter()
Who = Annotated[Principal, Depends(user)]


@router.get("/lineage", response_class=HTMLResponse)
def lineage_page(request: Request, who: Who, ref: str = "") -> HTMLResponse:
    from kiln.lineage import parse_node, walk

    if not ref:
        return render(request, "lineage.html", who=who, ref="", up=None, down=None)
    s = store(request)
    try:
        kind, object_id = parse_node(ref)
        up = walk(s, kind, object_id, "up")
        down = walk(s, kind, object_id, "down")
    except KilnError as exc:
        return page_error(request, exc)
    return render(request, "lineage.html", who=who, ref=ref, up=up, down=down)
