"""Records of monitoring: monitors, their window results, alert rules, alerts, reference
profiles. Statistics are JSON-able dicts; raw rows are never stored here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Monitor:
    """Watches ``deployment`` every ``every_ms`` over the last ``window_ms`` of its
    prediction log. ``config`` holds the options (``features``, ``label``,
    ``ab``, ``promote``, ``min_effect``, ``alpha``...)."""

    name: str
    deployment: str
    every_ms: int
    window_ms: int
    config: dict[str, Any] = field(default_factory=dict)
    user: str = ""
    created_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "deployment": self.deployment, "every_ms": self.every_ms,
                "window_ms": self.window_ms, "config": dict(self.config), "user": self.user,
                "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """One window of one monitor: ``status`` is ``ok``, ``empty`` (no traffic: never
    reported as "no drift") or ``error``; ``data`` holds the statistics (drift, quality,
    performance, ab) as JSON."""

    monitor: str
    seq: int
    window_start: int
    window_end: int
    status: str
    rows: int
    data: dict[str, Any]
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        return {"monitor": self.monitor, "seq": self.seq, "window_start": self.window_start,
                "window_end": self.window_end, "status": self.status, "rows": self.rows,
                "data": self.data, "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class AlertRule:
    """``expression`` such as ``drift.share_of_drifted_features > 0.3`` or
    ``performance.roc_auc < 0.80 for 2 windows``; ``sinks`` are sink specs
    (``log``, ``pipeline``, ``webhook:URL``...); ``cooldown_ms`` silences repeats."""

    monitor: str
    name: str
    expression: str
    sinks: tuple[str, ...] = ("log", "pipeline")
    cooldown_ms: int = 3_600_000
    created_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"monitor": self.monitor, "name": self.name, "expression": self.expression,
                "sinks": list(self.sinks), "cooldown_ms": self.cooldown_ms,
                "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule that fired on window ``window_seq`` of ``monitor``; ``event_id`` is the
    trigger event that ``on_alert(monitor)`` pipelines pick up (0 when none was sent)."""

    alert_id: int
    monitor: str
    rule: str
    expression: str
    value: float | None
    message: str
    window_seq: int
    created_at: int
    event_id: int = 0
    sinks: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "monitor": self.monitor, "rule": self.rule,
                "expression": self.expression, "value": self.value, "message": self.message,
                "window_seq": self.window_seq, "created_at": self.created_at,
                "event_id": self.event_id, "sinks": dict(self.sinks)}


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """The stored profile (``artifact``: sha256 of its JSON) of model ``model`` version
    ``version``'s training data (``dataset``) and of its predictions on it."""

    model: str
    version: int
    artifact: str
    dataset: str
    rows: int
    created_at: int
