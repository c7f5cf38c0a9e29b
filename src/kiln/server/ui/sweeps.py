"""Pages of hyperparameter sweeps: the list, and one sweep with its best trial, trial
counts, parameter importance, optimization history and parallel coordinates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kiln.exceptions import KilnError
from kiln.server.security import Principal
from kiln.server.ui._common import page_error, render, store, user

router = APIRouter()
Who = Annotated[Principal, Depends(user)]


@router.get("/sweeps", response_class=HTMLResponse)
def sweeps_page(request: Request, who: Who) -> HTMLResponse:
    from kiln.sweeps import Sweep
    from kiln.sweeps.report import list_sweeps

    s = store(request)
    rows: list[dict[str, Any]] = []
    for name in list_sweeps(s):
        sweep = Sweep(name, store=s)
        rows.append({"name": name, "metric": sweep.config.get("metric"),
                     "direction": sweep.config.get("direction"), "best": sweep.best_value,
                     "counts": sweep.counts()})
    return render(request, "sweeps.html", who=who, sweeps=rows)


@router.get("/sweeps/{name}", response_class=HTMLResponse)
def sweep_page(request: Request, who: Who, name: str) -> HTMLResponse:
    from kiln.sweeps import Sweep

    try:
        sweep = Sweep(name, store=store(request))
    except KilnError as exc:
        return page_error(request, exc)
    summary = sweep.summary()
    figures = [fig.to_plotly_json() for fig in sweep.figures(with_importance=False)]
    return render(request, "sweep.html", who=who, sweep=summary,
                  figures=[{"data": f["data"], "layout": f["layout"]} for f in figures])
