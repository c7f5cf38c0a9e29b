"""REST API of monitoring: monitors and their windows, alert rules, fired alerts.

Monitors run where the prediction log is read (``kiln monitor run``, ``kiln scheduler``);
the server shows what they stored and manages alert rules.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kiln.server.api._common import Limit, Offset, page, store
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["monitoring"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]


class RuleIn(BaseModel):
    expression: str = Field(min_length=1, max_length=1000,
                            examples=["drift.share_of_drifted_features > 0.3"])
    name: str | None = Field(default=None, max_length=255)
    sinks: list[str] = Field(default_factory=lambda: ["log", "pipeline"])
    cooldown_ms: int = Field(default=3_600_000, ge=0)


@router.get("/monitors", summary="Monitors with their latest window")
def list_monitors(request: Request, _: Viewer, limit: Limit = 100, offset: Offset = 0
                  ) -> dict[str, Any]:
    s = store(request)

    def encode(m: Any) -> dict[str, Any]:
        latest = s.list_monitor_results(m.name, limit=1)
        return {**m.to_dict(), "latest": latest[0].to_dict() if latest else None}

    return page(s.list_monitors(), limit, offset, encode)


@router.get("/monitors/{name}", summary="A monitor, its windows (oldest first) and alert rules")
def get_monitor(name: str, request: Request, _: Viewer,
                windows: Annotated[int, Query(ge=1, le=10_000)] = 100) -> dict[str, Any]:
    s = store(request)
    monitor = s.get_monitor(name)
    return {**monitor.to_dict(),
            "windows": [r.to_dict() for r in s.list_monitor_results(name, windows)],
            "rules": [r.to_dict() for r in s.list_alert_rules(name)]}


@router.post("/monitors/{name}/rules", summary="Add or replace an alert rule", status_code=201)
def add_rule(name: str, body: RuleIn, request: Request, _: Editor) -> dict[str, Any]:
    from kiln._time import now_ms
    from kiln.entities import AlertRule
    from kiln.monitoring.rules import parse_rule
    from kiln.monitoring.sinks import check_sinks

    rule = parse_rule(body.expression)
    s = store(request)
    s.get_monitor(name)
    saved = s.save_alert_rule(AlertRule(
        name, body.name or "_".join(rule.path[1:] or rule.path), rule.text,
        check_sinks(body.sinks), body.cooldown_ms, now_ms()))
    return saved.to_dict()


@router.delete("/monitors/{name}/rules/{rule}", summary="Remove an alert rule")
def remove_rule(name: str, rule: str, request: Request, _: Editor) -> dict[str, Any]:
    store(request).delete_alert_rule(name, rule)
    return {"removed": rule}


@router.get("/alerts", summary="Fired alerts, newest first")
def list_alerts(request: Request, _: Viewer, monitor: str | None = None,
                limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    items = store(request).list_alerts(monitor, limit=limit + offset)
    return page(items, limit, offset, lambda a: a.to_dict())


@router.get("/alerts/{alert_id}", summary="One alert and what it led to (lineage)")
def get_alert(alert_id: int, request: Request, _: Viewer) -> dict[str, Any]:
    from kiln.lineage import walk

    s = store(request)
    alert = s.get_alert(alert_id)
    return {**alert.to_dict(), "led_to": walk(s, "alert", str(alert_id), "down", 6).to_dict()}
