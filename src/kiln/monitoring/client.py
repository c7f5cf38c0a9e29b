"""Monitoring on an explicit Workspace (the ``MonitoringClient`` mixin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from kiln.core import WorkspaceCore

if TYPE_CHECKING:
    from kiln.entities import Alert, AlertRule, Monitor, MonitorResult, ReferenceProfile
    from kiln.workspace import Workspace


class MonitoringClient(WorkspaceCore):
    """Monitors, their windows, alert rules and alerts, reference profiles."""

    @property
    def _mws(self) -> Workspace:
        return cast("Workspace", self)

    def create_monitor(self, name: str, deployment: str, *, every: str | int = "1h",
                       window: str | int = "24h", schedule: bool = True,
                       **config: Any) -> Monitor:
        """Watch ``deployment`` every ``every`` over the last ``window`` (see
        :func:`kiln.monitoring.monitor.create_monitor`)."""
        from kiln.monitoring.monitor import create_monitor

        return create_monitor(self._mws, name, deployment, every=every, window=window,
                              schedule=schedule, **config)

    def run_monitor(self, name: str, *, start: int | None = None, end: int | None = None
                    ) -> MonitorResult:
        """Run monitor ``name`` over one window now; the stored result."""
        from kiln.monitoring.monitor import run_monitor

        return run_monitor(self._mws, name, start=start, end=end)

    def monitor_results(self, name: str, limit: int | None = None) -> list[MonitorResult]:
        """The monitor's windows, oldest first."""
        self.store.get_monitor(name)
        return self.store.list_monitor_results(name, limit)

    def add_alert_rule(self, monitor: str, expression: str, *, name: str | None = None,
                       sinks: tuple[str, ...] | list[str] = ("log", "pipeline"),
                       cooldown: str | int = "1h") -> AlertRule:
        """An alert rule such as ``drift.share_of_drifted_features > 0.3``."""
        from kiln.monitoring.alerts import add_rule
        from kiln.monitoring.monitor import parse_duration

        return add_rule(self._mws, monitor, expression, name=name, sinks=sinks,
                        cooldown_ms=parse_duration(cooldown, "cooldown"))

    def list_alerts(self, monitor: str | None = None, limit: int = 100) -> list[Alert]:
        """Fired alerts, newest first."""
        return self.store.list_alerts(monitor, limit=limit)

    def build_reference_profile(self, model: str, version: int | str, *,
                                dataset: str | None = None) -> ReferenceProfile:
        """Profile a model version's training data and predictions (stored, linked)."""
        from kiln.monitoring.reference import build_reference

        return build_reference(self._mws, model, version, dataset=dataset)

    def record_feedback(self, deployment: str, labels: dict[str, Any]) -> int:
        """Store ``{request_id: label}`` after checking each id is in the deployment's
        prediction log and each label has an accepted type (one line otherwise)."""
        from kiln.monitoring.window import check_labels

        check_labels(self._mws, deployment, labels)
        return self._mws.log_feedback(deployment, labels)
