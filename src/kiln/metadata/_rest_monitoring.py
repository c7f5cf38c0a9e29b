"""The REST store's calls for monitoring: monitors, window results, alert rules, alerts and
reference profiles (``/monitors``, ``/alert-rules``, ``/alerts``, ``/reference-profiles``).

A mixin of :class:`kiln.metadata.rest.RestMetadataStore`; every method mirrors one of
:class:`kiln.metadata.base.MonitoringStore`. A window's statistics travel as JSON text
(they may hold NaN).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from kiln.entities import Alert, AlertRule, Monitor, MonitorResult, ReferenceProfile
from kiln.metadata import wire
from kiln.metadata._rest_subsystems import PAGE, _q


class RestMonitoring:
    """Monitors and what they found, over HTTP."""

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _pages(self, path: str, params: Mapping[str, Any] | None = None
               ) -> Iterator[Any]:  # pragma: no cover
        raise NotImplementedError

    # -- monitors ---------------------------------------------------------------------
    def create_monitor(self, monitor: Monitor) -> Monitor:
        return wire.to_monitor(self._call("POST", "/monitors", json=monitor.to_dict()))

    def get_monitor(self, name: str) -> Monitor:
        return wire.to_monitor(self._call("GET", f"/monitors/{_q(name)}",
                                          params={"windows": 0}))

    def list_monitors(self) -> list[Monitor]:
        return [wire.to_monitor(d) for d in self._pages("/monitors", {"latest": False})]

    def delete_monitor(self, name: str) -> None:
        self._call("DELETE", f"/monitors/{_q(name)}")

    # -- window results -----------------------------------------------------------------
    def add_monitor_result(self, monitor: str, *, window_start: int, window_end: int,
                           status: str, rows: int, data: dict[str, Any],
                           created_at: int) -> MonitorResult:
        body = {"window_start": window_start, "window_end": window_end, "status": status,
                "rows": rows, "data_json": json.dumps(data, allow_nan=True),
                "created_at": created_at}
        return wire.to_monitor_result(self._call(
            "POST", f"/monitors/{_q(monitor)}/results", json=body))

    def list_monitor_results(self, monitor: str, limit: int | None = None
                             ) -> list[MonitorResult]:
        params = {"last": limit} if limit is not None else {}
        return [wire.to_monitor_result(d)
                for d in self._pages(f"/monitors/{_q(monitor)}/results", params)]

    # -- alert rules and alerts -----------------------------------------------------------
    def save_alert_rule(self, rule: AlertRule) -> AlertRule:
        body = {"expression": rule.expression, "sinks": list(rule.sinks),
                "cooldown_ms": rule.cooldown_ms, "created_at": rule.created_at}
        return wire.to_alert_rule(self._call(
            "PUT", f"/monitors/{_q(rule.monitor)}/rules/{_q(rule.name)}", json=body))

    def list_alert_rules(self, monitor: str | None = None) -> list[AlertRule]:
        params = {"monitor": monitor} if monitor is not None else {}
        return [wire.to_alert_rule(d) for d in self._pages("/alert-rules", params)]

    def delete_alert_rule(self, monitor: str, name: str) -> None:
        self._call("DELETE", f"/monitors/{_q(monitor)}/rules/{_q(name)}")

    def add_alert(self, alert: Alert) -> Alert:
        body = wire.alert(alert)
        del body["alert_id"]
        return wire.to_alert(self._call("POST", "/alerts", json=body))

    def set_alert_delivery(self, alert_id: int, event_id: int, sinks: dict[str, str]) -> None:
        self._call("PUT", f"/alerts/{alert_id}/delivery",
                   json={"event_id": event_id, "sinks": dict(sinks)})

    def list_alerts(self, monitor: str | None = None, rule: str | None = None,
                    limit: int = 1000) -> list[Alert]:
        filters = {k: v for k, v in (("monitor", monitor), ("rule", rule)) if v is not None}
        alerts: list[Alert] = []
        offset: int | None = 0
        while offset is not None and len(alerts) < limit:
            got = self._call("GET", "/alerts", params={
                **filters, "offset": offset, "limit": min(PAGE, limit - len(alerts))})
            alerts += [wire.to_alert(d) for d in got["items"]]
            offset = got.get("next_offset")
        return alerts

    def get_alert(self, alert_id: int) -> Alert:
        return wire.to_alert(self._call("GET", f"/alerts/{alert_id}",
                                        params={"lineage": False}))

    # -- reference profiles -----------------------------------------------------------------
    def set_reference_profile(self, profile: ReferenceProfile) -> None:
        body = wire.record(profile)
        del body["model"], body["version"]
        self._call("PUT", f"/reference-profiles/{_q(profile.model)}/{profile.version}",
                   json=body)

    def get_reference_profile(self, model: str, version: int) -> ReferenceProfile | None:
        got = self._call("GET", f"/reference-profiles/{_q(model)}/{version}")
        return None if got is None else wire.to_record(ReferenceProfile, got)
