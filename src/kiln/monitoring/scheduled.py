"""Monitors on a schedule, through the pipelines' scheduler.

Each monitor is saved as a ``schedule`` trigger of the one-step pipeline
:data:`monitor_window` with the monitor's name as its parameter, so ``kiln
scheduler`` runs it with its lease, fire-once claims and missed-schedule policy,
and every scheduled run is a tracked pipeline run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln._time import now_ms
from kiln.entities import TriggerRecord
from kiln.exceptions import NotFoundError
from kiln.pipelines.dsl import pipeline, step

if TYPE_CHECKING:
    from kiln.entities import Monitor
    from kiln.workspace import Workspace

PIPELINE_REF = "kiln.monitoring.scheduled:monitor_window"
EXPERIMENT = "kiln-monitors"


def trigger_id(name: str) -> str:
    return f"{PIPELINE_REF}#monitor:{name}"


@step(cache=False)
def run_window(monitor: str) -> dict[str, object]:
    """Run ``monitor`` over its latest window; a monitor deleted since is passed over."""
    from kiln.fluent import get_workspace
    from kiln.monitoring.monitor import run_monitor

    ws = get_workspace()
    try:
        result = run_monitor(ws, monitor)
    except NotFoundError as exc:
        if f"monitor {monitor!r}" in str(exc):
            return {"monitor": monitor, "status": "deleted"}
        raise
    return {"monitor": monitor, "seq": result.seq, "status": result.status,
            "rows": result.rows}


@pipeline(experiment=EXPERIMENT, cache=False)
def monitor_window(monitor: str = "") -> None:
    """One window of one monitor (what the scheduler runs for each monitor)."""
    run_window(monitor)


def register_schedule(ws: Workspace, monitor: Monitor, cron: str) -> TriggerRecord:
    """Save the monitor's schedule as a trigger the scheduler fires (missed windows: skip,
    a monitor reads the latest window anyway)."""
    now = now_ms()
    return ws.store.save_trigger(TriggerRecord(
        trigger_id(monitor.name), PIPELINE_REF, "schedule", {"cron": cron, "missed": "skip"},
        {"monitor": monitor.name}, {}, now, now))
