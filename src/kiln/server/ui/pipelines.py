"""Pages of pipelines: pipeline runs (newest first, paged in the database) and one run's
step graph, each step drawn with its status and duration (inline SVG, no script)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from kiln.exceptions import KilnError
from kiln.server.security import Principal
from kiln.server.ui._common import page_error, render, store, user

router = APIRouter()
Who = Annotated[Principal, Depends(user)]
PAGE_SIZE = 50


@router.get("/pipelines", response_class=HTMLResponse)
def pipelines_page(request: Request, who: Who, pipeline: str = "",
                   page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    from kiln.metadata.base import RunQuery
    from kiln.metadata.filters import parse_filter, parse_order_by

    where = "tags.`kiln.type` = 'pipeline'"
    if pipeline:
        where += " and tags.`kiln.pipeline` = '" + pipeline.replace("'", "''") + "'"
    try:
        runs = store(request).search_runs(RunQuery(
            None, parse_filter(where), parse_order_by("start_time DESC"), PAGE_SIZE + 1,
            (page - 1) * PAGE_SIZE))
    except KilnError as exc:
        return page_error(request, exc)
    more = len(runs) > PAGE_SIZE
    return render(request, "pipelines.html", who=who, runs=runs[:PAGE_SIZE], page=page,
                  more=more, pipeline=pipeline)


@router.get("/pipelines/{run_id}", response_class=HTMLResponse)
def pipeline_run_page(request: Request, run_id: str, who: Who) -> HTMLResponse:
    from kiln.pipelines.report import render_svg, store_run_graph

    try:
        run = store(request).get_run(run_id)
        graph = store_run_graph(store(request), run)
    except KilnError as exc:
        return page_error(request, exc)
    return render(request, "pipeline_run.html", who=who, run=run, graph=graph,
                  svg=render_svg(graph))
