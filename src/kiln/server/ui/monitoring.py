"""Pages of monitoring: monitors, and a monitor's drift, performance and A/B results over
time with its alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kiln.exceptions import KilnError
from kiln.server.security import Principal
from kiln.server.ui._common import fmt_time, page_error, render, store, user

router = APIRouter()
Who = Annotated[Principal, Depends(user)]
PERF = ("accuracy", "roc_auc", "f1", "precision", "recall", "log_loss", "mae", "rmse", "r2")


@router.get("/monitors", response_class=HTMLResponse)
def monitors_page(request: Request, who: Who) -> HTMLResponse:
    s = store(request)
    rows = []
    for m in s.list_monitors():
        latest = s.list_monitor_results(m.name, limit=1)
        rows.append({"monitor": m, "latest": latest[0] if latest else None,
                     "alerts": len(s.list_alerts(m.name, limit=1000))})
    return render(request, "monitors.html", who=who, rows=rows,
                  alerts=s.list_alerts(limit=20))


@router.get("/monitors/{name}", response_class=HTMLResponse)
def monitor_page(name: str, request: Request, who: Who) -> HTMLResponse:
    s = store(request)
    try:
        monitor = s.get_monitor(name)
    except KilnError as exc:
        return page_error(request, exc)
    windows = s.list_monitor_results(name, 500)
    ok = [w for w in windows if w.status == "ok"]
    x = [fmt_time(w.window_end) for w in ok]
    charts: dict[str, list[dict[str, Any]]] = {
        "drift": [{"name": "share of drifted features", "x": x,
                   "y": [(w.data.get("drift") or {}).get("share_of_drifted_features")
                         for w in ok]}],
        "performance": [
            {"name": key, "x": x, "y": [(w.data.get("performance") or {}).get(key) for w in ok]}
            for key in PERF if any(key in (w.data.get("performance") or {}) for w in ok)],
    }
    features = sorted({f for w in ok for f in ((w.data.get("drift") or {}).get("columns") or {})})
    charts["features"] = [
        {"name": f, "x": x, "y": [((w.data.get("drift") or {}).get("columns") or {})
                                   .get(f, {}).get("statistic") for w in ok]}
        for f in features]
    latest = ok[-1] if ok else None
    ab_rows = [{"window": w.seq, "end": w.window_end, **w.data["ab"]}
               for w in ok if w.data.get("ab")]
    return render(request, "monitor.html", who=who, monitor=monitor,
                  windows=list(reversed(windows)), charts=charts, latest=latest,
                  ab_rows=list(reversed(ab_rows)), alerts=s.list_alerts(name, limit=100),
                  rules=s.list_alert_rules(name))
