"""Pages of tracking: the runs table (sorted, filtered, paged in the database), a run,
and 2-20 runs compared with overlaid metric charts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from kiln.entities import Run
from kiln.exceptions import InvalidArgumentError, KilnError
from kiln.metadata.base import RunQuery
from kiln.server.security import Principal
from kiln.server.ui._common import page_error, render, store, user

router = APIRouter()
Who = Annotated[Principal, Depends(user)]
PAGE_SIZE = 50
MAX_POINTS = 5000  # per chart series; longer histories are thinned evenly


def _columns(runs: list[Run], kind: str, limit: int = 8) -> list[str]:
    keys: dict[str, None] = {}
    for r in runs:
        keys.update(dict.fromkeys(getattr(r, kind)))
    return sorted(keys)[:limit]


def _series(request: Request, run_id: str, key: str) -> dict[str, list[Any]]:
    history = store(request).get_metric_history(run_id, key)
    if len(history) > MAX_POINTS:
        stride = len(history) // MAX_POINTS + 1
        history = [*history[::stride], history[-1]]
    return {"x": [m.step for m in history],
            "y": [None if m.value != m.value else m.value for m in history]}


@router.get("/runs", response_class=HTMLResponse)
def runs_page(
    request: Request,
    who: Who,
    experiment: str | None = None,
    filter: str = "",
    order_by: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    from kiln.metadata.filters import parse_filter, parse_order_by

    s = store(request)
    try:
        exp_ids = [s.get_experiment(experiment).experiment_id] if experiment else None
        query = RunQuery(exp_ids, parse_filter(filter), parse_order_by(order_by or None),
                         PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
        runs = s.search_runs(query)
    except KilnError as exc:
        return page_error(request, exc)
    more = len(runs) > PAGE_SIZE
    runs = runs[:PAGE_SIZE]
    return render(request, "runs.html", who=who, runs=runs, experiment=experiment or "",
                  experiments=s.list_experiments(), filter=filter, order_by=order_by,
                  page=page, more=more, metric_keys=_columns(runs, "metrics"),
                  param_keys=_columns(runs, "params"))


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, request: Request, who: Who) -> HTMLResponse:
    from kiln.lineage import walk

    s = store(request)
    try:
        run = s.get_run(run_id)
    except KilnError as exc:
        return page_error(request, exc)
    charts = {key: [{"name": run.name, **_series(request, run_id, key)}]
              for key in sorted(run.metrics)}
    return render(request, "run.html", who=who, run=run, charts=charts,
                  artifacts=s.list_artifacts(run_id),
                  upstream=walk(s, "run", run_id, "up", 3),
                  downstream=walk(s, "run", run_id, "down", 3))


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, who: Who, ids: str = "") -> HTMLResponse:
    run_ids = [i for i in dict.fromkeys(ids.replace(" ", "").split(",")) if i]
    s = store(request)
    try:
        if not 2 <= len(run_ids) <= 20:
            raise InvalidArgumentError(
                f"compare needs 2 to 20 runs, got {len(run_ids)}; tick them in the runs table")
        runs = [s.get_run(r) for r in run_ids]
    except KilnError as exc:
        return page_error(request, exc)
    keys = sorted({k for r in runs for k in r.metrics})
    charts = {key: [{"name": f"{r.name} ({r.run_id[:8]})", **_series(request, r.run_id, key)}
                    for r in runs if key in r.metrics] for key in keys}
    params = sorted({k for r in runs for k in r.params})
    return render(request, "compare.html", who=who, runs=runs, charts=charts, params=params,
                  metric_keys=keys)
