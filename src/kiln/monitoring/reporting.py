"""``kiln monitor report``: a monitor's stored windows as one HTML report (statistics and
the window profiles only; see :func:`kiln.monitoring.report.render_report`)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.entities import MonitorResult
    from kiln.workspace import Workspace


def window_stats(ws: Workspace, result: MonitorResult) -> Any:
    """One stored window as the report's :class:`~kiln.monitoring.report.WindowStats`."""
    from kiln.monitoring.drift import ColumnDrift, DriftResult
    from kiln.monitoring.performance import PerformanceResult
    from kiln.monitoring.profile import Profile
    from kiln.monitoring.quality import QualityResult
    from kiln.monitoring.report import WindowStats

    d = result.data
    drift = quality = performance = profile = None
    if d.get("drift"):
        dr = d["drift"]
        fields = set(ColumnDrift.__dataclass_fields__)
        cols = [ColumnDrift(**{k: v for k, v in c.items() if k in fields})
                for c in dr.get("columns", {}).values()]
        drift = DriftResult(cols, int(dr.get("n_reference", 0)), int(dr.get("n_current", 0)),
                            float(dr.get("drift_share", 0.5)), list(dr.get("missing_columns", [])),
                            list(dr.get("skipped_columns", [])))
        if dr.get("profile_artifact"):
            profile = Profile.from_dict(json.loads(ws.artifacts.get_bytes(
                dr["profile_artifact"])))
    if d.get("quality"):
        quality = QualityResult.from_dict(d["quality"])
    if d.get("performance"):
        p = d["performance"]
        performance = PerformanceResult(str(p.get("task")), {
            k: float(p[k]) for k in p.get("metrics", []) if isinstance(p.get(k), int | float)},
            int(p.get("n_labelled", 0)), list(p.get("classes", [])))
    start = datetime.fromtimestamp(result.window_start / 1000, tz=timezone.utc)
    end = datetime.fromtimestamp(result.window_end / 1000, tz=timezone.utc)
    return WindowStats(start.isoformat(), end.isoformat(), drift, quality, performance, profile)


def write_report(ws: Workspace, name: str, path: str | Path, *, last: int = 100) -> Path:
    """Write monitor ``name``'s last ``last`` windows with traffic to ``path``."""
    from kiln.monitoring.reference import load_reference
    from kiln.monitoring.report import render_report

    monitor = ws.store.get_monitor(name)
    results = [r for r in ws.store.list_monitor_results(name, last) if r.status == "ok"]
    if not results:
        raise InvalidArgumentError(f"monitor {name!r} has no window with traffic yet; run it: "
                                   f"kiln monitor run {name}")
    ref_info = results[-1].data.get("reference") or {}
    if not ref_info:
        raise InvalidArgumentError(f"monitor {name!r} has no reference profile yet")
    ref = load_reference(ws, str(ref_info["model"]), int(ref_info["version"]), compute=False)
    return render_report([window_stats(ws, r) for r in results], ref.features, path,
                         title=f"Monitor {name} on deployment {monitor.deployment}")
