"""Alert sinks: where a fired alert goes. A plug-in point of one method.

A sink spec is ``NAME`` or ``NAME:ARGUMENT``: ``log``, ``pipeline`` (records a trigger
event that ``on_alert(MONITOR)`` pipelines pick up; ``pipeline:EVENT`` names the
event), ``webhook:https://hooks.slack.com/...`` (JSON with a Slack-compatible ``text``).
Other sinks register under the entry-point group ``kiln.alert_sinks``: a class taking
the argument (or ``None``) whose ``send(alert, ws)`` returns a short outcome text.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any, Protocol

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.entities import Alert
    from kiln.workspace import Workspace

GROUP = "kiln.alert_sinks"
BUILTIN = {
    "log": "kiln.monitoring.sinks:LogSink",
    "pipeline": "kiln.monitoring.sinks:PipelineSink",
    "webhook": "kiln.monitoring.sinks:WebhookSink",
}
log = logging.getLogger("kiln.alerts")


class AlertSink(Protocol):
    """Delivers an alert; returns what happened (``sent``, ``event 12``...)."""

    def send(self, alert: Alert, ws: Workspace) -> str: ...


class LogSink:
    """Writes the alert to the ``kiln.alerts`` logger at WARNING."""

    def __init__(self, arg: str | None = None) -> None:
        self.arg = arg

    def send(self, alert: Alert, ws: Workspace) -> str:
        log.warning("alert %s on monitor %s: %s", alert.rule, alert.monitor, alert.message)
        return "logged"


class PipelineSink:
    """Records a trigger event named after the monitor (or ``arg``): pipelines declared
    with ``on_alert(name)`` run on the scheduler's next tick."""

    def __init__(self, arg: str | None = None) -> None:
        self.arg = arg

    def send(self, alert: Alert, ws: Workspace) -> str:
        from kiln.pipelines.triggers import record_alert

        event = record_alert(self.arg or alert.monitor, {**alert.to_dict(), "sinks": {}},
                             workspace=ws)
        return f"event {event}"


class WebhookSink:
    """POSTs JSON to ``arg``: ``text`` (what Slack's incoming webhooks show) and ``alert``."""

    def __init__(self, arg: str | None = None, timeout: float = 10.0) -> None:
        if not arg or not arg.startswith(("http://", "https://")):
            raise InvalidArgumentError(f"webhook sink needs a URL: webhook:https://...; got "
                                       f"{arg!r}")
        self.url = arg
        self.timeout = timeout

    def send(self, alert: Alert, ws: Workspace) -> str:
        body = json.dumps({
            "text": f":rotating_light: kiln alert *{alert.rule}* on monitor "
                    f"*{alert.monitor}*: {alert.message}",
            "alert": alert.to_dict(),
        }).encode()
        req = urllib.request.Request(self.url, body, {"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return f"sent ({resp.status})"
        except (urllib.error.URLError, OSError) as exc:
            log.error("webhook %s failed for alert %s: %s", self.url, alert.alert_id, exc)
            return f"failed: {exc}"


def parse_sink(spec: str) -> tuple[str, str | None]:
    name, sep, arg = spec.partition(":")
    return name.strip(), (arg.strip() if sep else None)


def make_sink(spec: str) -> AlertSink:
    """The sink named by ``spec``; ``ConfigError`` lists the accepted names."""
    from kiln._plugins import load_plugin

    name, arg = parse_sink(spec)
    cls: Any = load_plugin(GROUP, BUILTIN, name, what="alert sink")
    sink: AlertSink = cls(arg)
    return sink


def check_sinks(specs: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Build each sink once so a bad spec fails when the rule is saved, not when it fires."""
    for spec in specs:
        make_sink(spec)
    return tuple(specs)
