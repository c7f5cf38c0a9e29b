"""REST API of monitoring: monitors and their windows, alert rules, fired alerts, reference
profiles. It mirrors :class:`kiln.metadata.base.MonitoringStore`, so the REST store
implements it over HTTP, and adds what the UI shows (a monitor's latest window, an alert's
lineage).

Monitors run where the prediction log is read (``kiln monitor run``, ``kiln scheduler``);
the server shows what they stored and manages alert rules. A window's statistics may hold
NaN: the store-level routes carry them as JSON text (``data_json``), the UI's routes as
JSON with non-finite numbers written ``"NaN"``/``"Infinity"``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from kiln.entities import Alert, AlertRule, Monitor, MonitorResult, ReferenceProfile
from kiln.exceptions import InvalidArgumentError
from kiln.metadata import wire
from kiln.server.api._common import Int, Limit, Name, Offset, Version, page, store
from kiln.server.api.tracking import FloatValue
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["monitoring"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]
Ms = Annotated[int, Field(ge=0, le=2**62)]
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
AlertId = Annotated[int, Path(ge=0, le=2**63 - 1)]
Sinks = Annotated[list[str], Field(max_length=100, examples=[["log", "pipeline"]])]


class RuleIn(BaseModel):
    expression: str = Field(min_length=1, max_length=1000,
                            examples=["drift.share_of_drifted_features > 0.3"])
    name: str | None = Field(default=None, max_length=255)
    sinks: Sinks = Field(default_factory=lambda: ["log", "pipeline"])
    cooldown_ms: Ms = 3_600_000


class MonitorIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    deployment: str = Field(min_length=1, max_length=255)
    every_ms: Ms
    window_ms: Ms
    config: dict[str, Any] = {}
    user: str = ""
    created_at: Int = 0


class ResultIn(BaseModel):
    window_start: Int
    window_end: Int
    status: str = Field(min_length=1, max_length=16, examples=["ok", "empty", "error"])
    rows: int = Field(ge=0, le=2**31 - 1)
    data_json: str = Field(description="the window's statistics as JSON text (NaN allowed)",
                           examples=['{"drift": {"share_of_drifted_features": 0.5}}'])
    created_at: Int


class RuleWriteIn(BaseModel):
    """A rule as the store keeps it (the expression and sinks are checked)."""

    expression: str = Field(min_length=1, max_length=1000)
    sinks: Sinks = Field(default_factory=lambda: ["log", "pipeline"])
    cooldown_ms: Ms = 3_600_000
    created_at: Int = 0


class AlertIn(BaseModel):
    monitor: str = Field(min_length=1, max_length=255)
    rule: str = Field(min_length=1, max_length=255)
    expression: str = Field(max_length=1000)
    value: FloatValue | None = None
    message: str = ""
    window_seq: Int32 = 0
    created_at: Int
    event_id: Int = 0
    sinks: dict[str, str] = {}


class DeliveryIn(BaseModel):
    event_id: Int
    sinks: dict[str, str]


class ProfileIn(BaseModel):
    artifact: str = Field(pattern=r"^[0-9a-f]{64}$")
    dataset: str = Field(max_length=512)
    rows: int = Field(ge=0, le=2**62)
    created_at: Int


def _safe(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` with its non-finite numbers written as strings (JSON has none)."""
    out: dict[str, Any] = wire.json_safe(d)
    return out


def _window(r: MonitorResult) -> dict[str, Any]:
    return _safe(r.to_dict())


# -- monitors -----------------------------------------------------------------------------
@router.get("/monitors", summary="Monitors (by name) with their latest window")
def list_monitors(request: Request, _: Viewer, limit: Limit = 100, offset: Offset = 0,
                  latest: Annotated[bool, Query(description="Include each latest window")]
                  = True) -> dict[str, Any]:
    s = store(request)

    def encode(m: Monitor) -> dict[str, Any]:
        out = _safe(m.to_dict())
        if latest:
            last = s.list_monitor_results(m.name, limit=1)
            out["latest"] = _window(last[0]) if last else None
        return out

    return page(s.list_monitors(), limit, offset, encode)


@router.post("/monitors", summary="Create a monitor (409 if the name is taken)",
             status_code=201)
def create_monitor(body: MonitorIn, request: Request, who: Editor) -> dict[str, Any]:
    monitor = Monitor(body.name, body.deployment, body.every_ms, body.window_ms, body.config,
                      who.who(body.user), body.created_at)
    return _safe(store(request).create_monitor(monitor).to_dict())


@router.get("/monitors/{name}", summary="A monitor, its windows (oldest first) and alert rules")
def get_monitor(name: Name, request: Request, _: Viewer,
                windows: Annotated[int, Query(ge=0, le=10_000)] = 100) -> dict[str, Any]:
    s = store(request)
    monitor = s.get_monitor(name)
    results = s.list_monitor_results(name, windows) if windows else []
    return {**_safe(monitor.to_dict()),
            "windows": [_window(r) for r in results],
            "rules": [r.to_dict() for r in s.list_alert_rules(name)]}


@router.delete("/monitors/{name}", summary="Delete a monitor and its rules (history stays)")
def delete_monitor(name: Name, request: Request, _: Editor) -> dict[str, Any]:
    store(request).delete_monitor(name)
    return {"deleted": name}


@router.post("/monitors/{name}/results", summary="Store a window's result as the next seq",
             status_code=201)
def add_result(name: Name, body: ResultIn, request: Request, _: Editor) -> dict[str, Any]:
    try:
        data = json.loads(body.data_json)
    except (ValueError, RecursionError) as exc:
        raise InvalidArgumentError(f"data_json {body.data_json[:80]!r} is not JSON: {exc}"
                                   ) from None
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"data_json {body.data_json[:80]!r} is not a JSON object; "
                                   "send the window's statistics as {...}")
    result = store(request).add_monitor_result(
        name, window_start=body.window_start, window_end=body.window_end, status=body.status,
        rows=body.rows, data=data, created_at=body.created_at)
    return wire.monitor_result(result)


@router.get("/monitors/{name}/results",
            summary="A monitor's window results, oldest first (data as JSON text)")
def list_results(name: Name, request: Request, _: Viewer, limit: Limit = 1000,
                 offset: Offset = 0,
                 last: Annotated[int | None, Query(ge=0, le=2**31 - 1,
                                                   description="Only the last N windows")]
                 = None) -> dict[str, Any]:
    items = store(request).list_monitor_results(name, last)
    return page(items, limit, offset, wire.monitor_result)


# -- alert rules --------------------------------------------------------------------------
@router.get("/alert-rules", summary="Alert rules by monitor and name")
def list_rules(request: Request, _: Viewer, monitor: str | None = None, limit: Limit = 1000,
               offset: Offset = 0) -> dict[str, Any]:
    return page(store(request).list_alert_rules(monitor), limit, offset,
                lambda r: r.to_dict())


@router.post("/monitors/{name}/rules", summary="Add or replace an alert rule", status_code=201)
def add_rule(name: Name, body: RuleIn, request: Request, _: Editor) -> dict[str, Any]:
    from kiln._time import now_ms
    from kiln.monitoring.rules import parse_rule
    from kiln.monitoring.sinks import check_sinks

    rule = parse_rule(body.expression)
    s = store(request)
    s.get_monitor(name)
    saved = s.save_alert_rule(AlertRule(
        name, body.name or "_".join(rule.path[1:] or rule.path), rule.text,
        check_sinks(body.sinks), body.cooldown_ms, now_ms()))
    return saved.to_dict()


@router.put("/monitors/{name}/rules/{rule}", summary="Create or replace the rule as given")
def save_rule(name: Name, rule: Name, body: RuleWriteIn, request: Request, _: Editor
              ) -> dict[str, Any]:
    from kiln.monitoring.rules import parse_rule
    from kiln.monitoring.sinks import check_sinks

    parse_rule(body.expression)
    saved = store(request).save_alert_rule(AlertRule(
        name, rule, body.expression, check_sinks(body.sinks), body.cooldown_ms,
        body.created_at))
    return saved.to_dict()


@router.delete("/monitors/{name}/rules/{rule}", summary="Remove an alert rule")
def remove_rule(name: Name, rule: Name, request: Request, _: Editor) -> dict[str, Any]:
    store(request).delete_alert_rule(name, rule)
    return {"removed": rule}


# -- alerts -------------------------------------------------------------------------------
@router.get("/alerts", summary="Fired alerts, newest first")
def list_alerts(request: Request, _: Viewer, monitor: str | None = None,
                rule: str | None = None, limit: Limit = 100, offset: Offset = 0
                ) -> dict[str, Any]:
    # One more than the page, so the page knows whether another follows.
    items = store(request).list_alerts(monitor, rule, limit=offset + limit + 1)
    return page(items, limit, offset, wire.alert)


@router.post("/alerts", summary="Store a fired alert (its id is assigned)", status_code=201)
def add_alert(body: AlertIn, request: Request, _: Editor) -> dict[str, Any]:

    value = None if body.value is None else wire.dec_float(body.value)
    alert = Alert(0, body.monitor, body.rule, body.expression, value, body.message,
                  body.window_seq, body.created_at, body.event_id, body.sinks)
    return wire.alert(store(request).add_alert(alert))


@router.get("/alerts/{alert_id}", summary="One alert and what it led to (lineage)")
def get_alert(alert_id: AlertId, request: Request, _: Viewer,
              lineage: Annotated[bool, Query(description="Include what it led to")] = True
              ) -> dict[str, Any]:
    from kiln.lineage import walk

    s = store(request)
    alert = s.get_alert(alert_id)
    if not lineage:
        return wire.alert(alert)
    return {**wire.alert(alert),
            "led_to": walk(s, "alert", str(alert_id), "down", 6).to_dict()}


@router.put("/alerts/{alert_id}/delivery",
            summary="Record where an alert was sent and its trigger event")
def set_delivery(alert_id: AlertId, body: DeliveryIn, request: Request, _: Editor
                 ) -> dict[str, Any]:
    store(request).set_alert_delivery(alert_id, body.event_id, body.sinks)
    return {}


# -- reference profiles -------------------------------------------------------------------
@router.put("/reference-profiles/{model}/{version}",
            summary="Store (or replace) a model version's reference profile")
def set_profile(model: Name, version: Version, body: ProfileIn, request: Request, _: Editor
                ) -> dict[str, Any]:

    profile = ReferenceProfile(model, version, **body.model_dump())
    store(request).set_reference_profile(profile)
    return wire.record(profile)


@router.get("/reference-profiles/{model}/{version}",
            summary="A model version's reference profile (null when none)")
def get_profile(model: Name, version: Version, request: Request, _: Viewer) -> Any:
    profile = store(request).get_reference_profile(model, version)
    return None if profile is None else wire.record(profile)
