"""Pages of the model registry: models, and a model's versions, aliases, alias history,
signatures and lineage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kiln.exceptions import KilnError
from kiln.server.security import Principal
from kiln.server.ui._common import page_error, render, store, user

router = APIRouter()
Who = Annotated[Principal, Depends(user)]


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, who: Who) -> HTMLResponse:
    return render(request, "models.html", who=who, models=store(request).list_registered_models())


@router.get("/models/{name}", response_class=HTMLResponse)
def model_page(name: str, request: Request, who: Who) -> HTMLResponse:
    from kiln.lineage import walk

    s = store(request)
    try:
        model = s.get_registered_model(name)
    except KilnError as exc:
        return page_error(request, exc)
    versions = list(reversed(s.list_model_versions(name)))
    lineage = {v.version: walk(s, "model_version", f"{name}/{v.version}", "up", 3)
               for v in versions[:20]}
    return render(request, "model.html", who=who, model=model, versions=versions,
                  history=list(reversed(s.alias_history(name))), lineage=lineage,
                  owners=s.model_owners(name))
