"""Pages of serving: deployments, and a deployment's routes and weights, shadows, version
history, and its live traffic per route (request rate, errors, latency) read from the
prediction log."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from kiln.exceptions import KilnError
from kiln.server.security import Principal
from kiln.server.ui._common import fmt_time, page_error, render, store, user

if TYPE_CHECKING:
    import pandas as pd

router = APIRouter()
Who = Annotated[Principal, Depends(user)]
BUCKET_S = 10  # the traffic chart's resolution


@router.get("/deployments", response_class=HTMLResponse)
def deployments_page(request: Request, who: Who) -> HTMLResponse:
    return render(request, "deployments.html", who=who,
                  deployments=store(request).list_deployments())


@router.get("/deployments/{name}", response_class=HTMLResponse)
def deployment_page(name: str, request: Request, who: Who,
                    minutes: Annotated[int, Query(ge=1, le=1440)] = 15) -> HTMLResponse:
    from kiln.serving.predlog import read_log

    s = store(request)
    try:
        dep = s.get_deployment(name)
    except KilnError as exc:
        return page_error(request, exc)
    now = int(time.time() * 1000)
    start = now - minutes * 60_000
    log = read_log(s, request.app.state.artifacts, name, start, None)
    return render(request, "deployment.html", who=who, dep=dep, minutes=minutes,
                  history=list(reversed(s.deployment_history(name))),
                  traffic=_traffic(log, minutes * 60), chart=_timeline(log))


def _traffic(log: pd.DataFrame, window_s: float) -> list[dict[str, Any]]:
    """Per route (shadows apart): requests, requests/s over the window, errors, latency."""
    if log.empty:
        return []
    out = []
    for (route, shadow), rows in log.groupby(["route", "shadow"], sort=True):
        lat = rows["latency_ms"]
        out.append({
            "route": route, "shadow": bool(shadow), "requests": len(rows),
            "rate": len(rows) / window_s,
            "errors": int((rows["status"] != 200).sum()),
            "versions": sorted({int(v) for v in rows["model_version"]}),
            "p50": float(lat.quantile(0.5)), "p99": float(lat.quantile(0.99)),
            "last": fmt_time(int(rows["timestamp"].max())),
        })
    return out


def _timeline(log: pd.DataFrame) -> list[dict[str, Any]]:
    """Requests/s per route in 10-second buckets: one plotly trace per route."""
    from collections import Counter

    width = BUCKET_S * 1000
    counts: Counter[tuple[str, int]] = Counter()
    for route, shadow, ts in zip(log["route"].tolist(), log["shadow"].tolist(),
                                 log["timestamp"].tolist(), strict=True):
        counts[(f"{route} (shadow)" if shadow else str(route), int(ts) // width * width)] += 1
    traces = []
    for name in sorted({name for name, _ in counts}):
        stamps = sorted(b for n, b in counts if n == name)
        traces.append({"name": name, "x": [fmt_time(b) for b in stamps],
                       "y": [counts[(name, b)] / BUCKET_S for b in stamps]})
    return traces
