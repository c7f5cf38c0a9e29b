"""Evaluating alert rules after each window: cool-down, de-duplication, delivery.

A rule fires on a window when its condition holds (for its last N windows with the
figure); it does not fire again on the same window, nor within ``cooldown_ms`` of its
last alert. Each alert is stored, sent to the rule's sinks, and linked in the lineage
(monitor result -> alert).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln._time import now_ms
from kiln.entities import Alert, AlertRule, LineageEdge
from kiln.monitoring.rules import parse_rule
from kiln.monitoring.sinks import check_sinks, make_sink

if TYPE_CHECKING:
    from kiln.entities import MonitorResult
    from kiln.workspace import Workspace

DEFAULT_SINKS = ("log", "pipeline")


def add_rule(ws: Workspace, monitor: str, expression: str, *, name: str | None = None,
             sinks: tuple[str, ...] | list[str] = DEFAULT_SINKS,
             cooldown_ms: int = 3_600_000) -> AlertRule:
    """Save an alert rule on ``monitor`` (replacing one of the same name). The expression
    and the sinks are checked first: one line names the bad token or sink."""
    rule = parse_rule(expression)
    ws.store.get_monitor(monitor)
    name = name or "_".join(rule.path[1:] or rule.path)
    return ws.store.save_alert_rule(AlertRule(monitor, name, rule.text, check_sinks(sinks),
                                              int(cooldown_ms), now_ms()))


def evaluate_rules(ws: Workspace, result: MonitorResult, now: int | None = None
                   ) -> list[Alert]:
    """Check every rule of ``result.monitor`` against its recent windows; fire, store and
    deliver the alerts due. Returns them."""
    now = now_ms() if now is None else now
    rules = ws.store.list_alert_rules(result.monitor)
    if not rules or result.status != "ok":
        return []
    depth = max(parse_rule(r.expression).windows for r in rules)
    history = [r.data for r in ws.store.list_monitor_results(result.monitor, limit=depth * 4)
               if r.status == "ok" and r.seq <= result.seq]
    fired: list[Alert] = []
    for rule_rec in rules:
        rule = parse_rule(rule_rec.expression)
        holds, value = rule.evaluate(history)
        if not holds:
            continue
        last = ws.store.list_alerts(result.monitor, rule_rec.name, limit=1)
        if last and (last[0].window_seq == result.seq
                     or now - last[0].created_at < rule_rec.cooldown_ms):
            continue  # de-duplicated, or cooling down
        message = (f"{'.'.join(rule.path)} = {value:.4g} ({rule.text}) on window "
                   f"{result.seq} of deployment traffic, {result.rows} rows")
        alert = ws.store.add_alert(Alert(0, result.monitor, rule_rec.name, rule.text, value,
                                         message, result.seq, now))
        ws.store.add_edges([LineageEdge("monitor_result", f"{result.monitor}/{result.seq}",
                                        "alert", str(alert.alert_id), "raised", now)])
        fired.append(deliver(ws, alert, rule_rec.sinks))
    return fired


def deliver(ws: Workspace, alert: Alert, sinks: tuple[str, ...]) -> Alert:
    """Send ``alert`` to each sink; a failing sink does not stop the others."""
    outcomes: dict[str, str] = {}
    event_id = 0
    for spec in sinks:
        try:
            outcome = make_sink(spec).send(alert, ws)
        except Exception as exc:  # a plug-in's bug must not lose the other deliveries
            outcome = f"failed: {type(exc).__name__}: {exc}"
        outcomes[spec] = outcome
        if outcome.startswith("event "):
            event_id = int(outcome.split()[1])
    ws.store.set_alert_delivery(alert.alert_id, event_id, outcomes)
    return ws.store.get_alert(alert.alert_id)
