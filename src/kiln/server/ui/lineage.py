"""Page of lineage: what an object was made from, and what used it, walked from any
object (run or pipeline run, model version, dataset version, deployment...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kiln.exceptions import KilnError
from kiln.server.security import Principal
from kiln.server.ui._common import page_error, render, store, user

if TYPE_CHECKING:
    from kiln.metadata.sql import SqlMetadataStore

router = APIRouter()
Who = Annotated[Principal, Depends(user)]


def resolve(s: SqlMetadataStore, ref: str) -> tuple[str, str]:
    """``(kind, id)`` of a reference; known kinds are looked up so a typo is one clear
    line, and ``models:/NAME@ALIAS`` (or ``models:/NAME/VERSION``) names a version."""
    from kiln.lineage import parse_node

    ref = ref.strip()
    if ref.startswith("models:/"):
        target = ref.removeprefix("models:/")
        name, sep, alias = target.partition("@")
        if sep:
            return "model_version", f"{name}/{s.get_alias(name, alias)}"
        name, _, version = target.rpartition("/")
        return "model_version", f"{name}/{s.get_model_version(name, int(version)).version}"
    kind, object_id = parse_node(ref)
    if kind == "run":
        s.get_run(object_id)
    elif kind == "model_version":
        name, _, version = object_id.rpartition("/")
        if version.isdigit():
            s.get_model_version(name, int(version))
    elif kind == "deployment":
        s.get_deployment(object_id)
    return kind, object_id


@router.get("/lineage", response_class=HTMLResponse)
def lineage_page(request: Request, who: Who, ref: str = "") -> HTMLResponse:
    from kiln.lineage import walk

    if not ref:
        return render(request, "lineage.html", who=who, ref="", up=None, down=None)
    s = store(request)
    try:
        kind, object_id = resolve(s, ref)
        up = walk(s, kind, object_id, "up", derived=True)
        down = walk(s, kind, object_id, "down", derived=True)
    except (KilnError, ValueError) as exc:
        if isinstance(exc, ValueError):
            exc = KilnError(f"lineage reference {ref!r} is not accepted: {exc}")
        return page_error(request, exc)
    return render(request, "lineage.html", who=who, ref=ref, up=up, down=down)
