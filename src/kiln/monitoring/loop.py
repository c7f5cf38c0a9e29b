"""The feedback loop: an alert retrains, the new version serves as ``challenger`` on an A/B
route, and a significantly better challenger is promoted through the governance gates.

Each step is a lineage edge, so ``kiln lineage alert:ID --down`` shows the chain::

    alert 3 -triggered-> run (retraining pipeline) -produced-> model_version churn/4
        -deployed-> deployment_version churn/7 -promoted-> deployment_version churn/8

Inside a retraining pipeline started by ``on_alert(MONITOR)``, call
:func:`deploy_challenger` from a step; the monitor (``promote=True``) or
:func:`promote_if_better` decides the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import Alert, Deployment, DeploymentSpec, LineageEdge, Route
from kiln.exceptions import InvalidArgumentError, KilnError

if TYPE_CHECKING:
    from pathlib import Path

    from kiln.entities import MonitorResult
    from kiln.governance.policy import Policy
    from kiln.governance.promote import PromotionResult
    from kiln.workspace import Workspace

CHALLENGER = "challenger"
PRODUCTION = "production"


@dataclass(frozen=True)
class LoopDecision:
    """What :func:`promote_if_better` decided, and why."""

    promoted: bool
    reason: str
    promotion: PromotionResult | None = None
    deployment: Deployment | None = None


def pipeline_run_of(ws: Workspace, run_id: str) -> str:
    """The pipeline run ``run_id`` belongs to (itself when it is one or has no parent)."""
    from kiln.pipelines.runner import PIPELINE_TAG

    current = run_id
    for _ in range(10):
        run = ws.get_run(current)
        if run.tags.get(PIPELINE_TAG) == "pipeline" or not run.parent_run_id:
            return current
        current = run.parent_run_id
    return current


def triggering_alert(ws: Workspace, pipeline_run_id: str) -> Alert | None:
    """The alert whose trigger event started pipeline run ``pipeline_run_id``, if any."""
    run = ws.get_run(pipeline_run_id)
    fire_key, trigger = run.tags.get("kiln.fire_key", ""), run.tags.get("kiln.trigger", "")
    if not fire_key.startswith("alert:") or "#alert:" not in trigger:
        tagged = run.tags.get("kiln.alert_id")
        return ws.store.get_alert(int(tagged)) if tagged else None
    name = trigger.split("#alert:", 1)[1]
    event_id = int(fire_key.split(":", 1)[1])
    events = ws.store.trigger_events("alert", name, event_id - 1)
    if not events or events[0].event_id != event_id:
        return None
    alert_id = events[0].payload.get("alert_id")
    return ws.store.get_alert(int(str(alert_id))) if alert_id is not None else None


def deploy_challenger(ws: Workspace, deployment: str, model: str, version: int, *,
                      weight: float = 50.0, alias: str = CHALLENGER,
                      run_id: str | None = None) -> Deployment:
    """Point ``model@alias`` at ``version`` and give that route ``weight`` percent of the
    deployment's traffic (the other routes share the rest in their proportions; weights
    become percentages). ``run_id`` (the
    retraining run, by default the active one) links alert -> run -> version ->
    deployment change in the lineage."""
    if not 0 < weight < 100:
        raise InvalidArgumentError(f"challenger weight {weight!r} is not accepted; give a "
                                   "percentage between 0 and 100 (e.g. 10 for a canary)")
    mv = ws.get_model_version(model, version)
    current = ws.get_deployment(deployment)
    ws.set_alias(mv.name, alias, mv.version)
    others = [r for r in current.routes if not (r.model == mv.name and r.alias == alias)]
    total = sum(r.weight for r in others)
    if total <= 0:
        raise InvalidArgumentError(f"deployment {deployment!r} has no other route with "
                                   "traffic to compare the challenger with")
    scale = (100 - weight) / total  # weights become percentages
    others = [Route(r.model, r.alias, r.version, round(r.weight * scale, 6)) for r in others]
    spec = DeploymentSpec((*others, Route(mv.name, alias=alias, weight=float(weight))),
                          current.spec.shadows, current.spec.sticky_key, current.spec.canary)
    dep = ws.update_deployment(deployment, spec, "challenger",
                               f"{mv.name} v{mv.version} as {alias} at {weight:g}%")
    run_id = run_id or _active_run()
    edges = [LineageEdge("model_version", f"{mv.name}/{mv.version}", "deployment_version",
                         f"{dep.name}/{dep.version}", "deployed", dep.created_at)]
    if run_id is not None:
        pipe = pipeline_run_of(ws, run_id)
        edges.append(LineageEdge("run", pipe, "model_version", f"{mv.name}/{mv.version}",
                                 "produced", dep.created_at))
        alert = triggering_alert(ws, pipe)
        if alert is not None:
            edges.append(LineageEdge("alert", str(alert.alert_id), "run", pipe, "triggered",
                                     dep.created_at))
    ws.store.add_edges(edges)
    return dep


def promote_if_better(ws: Workspace, monitor: str, result: MonitorResult | None = None, *,
                      alias: str = CHALLENGER, target: str = PRODUCTION,
                      policy: Policy | None = None, project_dir: Path | None = None
                      ) -> LoopDecision:
    """Promote the challenger when the monitor's A/B analysis (``result``, by default the
    latest window) finds it better with significance; through the promotion gates. On
    success the deployment serves ``target`` only (the challenger route is removed)."""
    from kiln.governance.promote import promote

    mon = ws.store.get_monitor(monitor)
    if result is None:
        latest = ws.store.list_monitor_results(monitor, limit=1)
        result = latest[0] if latest else None
    ab: dict[str, Any] = (result.data.get("ab") if result is not None else None) or {}
    if not ab:
        return LoopDecision(False, "no A/B result yet (both routes need labelled traffic)")
    dep = ws.get_deployment(mon.deployment)
    challenger = next((r for r in dep.routes if r.alias == alias), None)
    if challenger is None or ab.get("treatment") != challenger.target:
        return LoopDecision(False, f"the A/B test does not involve a {alias!r} route")
    if not ab.get("significant") or ab.get("winner_route") != challenger.target:
        return LoopDecision(False, f"{challenger.target} is not better with significance "
                                   f"(p = {_fmt(ab.get('p_value'))}); keep testing")
    version = ws.store.get_alias(challenger.model, alias)
    promotion = promote(ws, challenger.model, version, target, policy=policy,
                        project_dir=project_dir)
    if not promotion.moved:
        failed = ", ".join(c.check for c in promotion.checks if not c.passed)
        return LoopDecision(False, f"the promotion gates blocked {challenger.model} v{version}: "
                                   f"{failed}", promotion)
    kept = [r for r in dep.routes if r is not challenger]
    routes = tuple(Route(r.model, r.alias, r.version, r.weight + (
        challenger.weight if (r.model, r.alias) == (challenger.model, target) else 0.0))
        for r in kept)
    if not any((r.model, r.alias) == (challenger.model, target) for r in routes):
        routes = (*routes, Route(challenger.model, alias=target, weight=challenger.weight))
    spec = DeploymentSpec(routes, dep.spec.shadows, dep.spec.sticky_key, None)
    new = ws.update_deployment(dep.name, spec, "promote",
                               f"{challenger.target} (v{version}) won the A/B test "
                               f"(p = {_fmt(ab.get('p_value'))}); promoted to {target}")
    at = now_ms()
    ws.store.add_edges([
        LineageEdge("model_version", f"{challenger.model}/{version}", "deployment_version",
                    f"{new.name}/{new.version}", "promoted", at),
        LineageEdge("monitor_result", f"{monitor}/{result.seq if result else 0}",
                    "deployment_version", f"{new.name}/{new.version}", "ab_decision", at),
    ])
    return LoopDecision(True, f"{challenger.target} v{version} is better with significance "
                              f"(p = {_fmt(ab.get('p_value'))}); promoted to {target}",
                        promotion, new)


def loop_chain(ws: Workspace, alert_id: int, depth: int = 6) -> list[str]:
    """The lineage downstream of an alert as lines ``kind:id -relation-> kind:id``."""
    from kiln.lineage import LineageNode, walk

    root = walk(ws.store, "alert", str(alert_id), "down", depth)
    lines: list[str] = []

    def visit(node: LineageNode, path: str) -> None:
        if not node.children:
            lines.append(path)
        for child in node.children:
            visit(child, f"{path} -{child.relation}-> {child.kind}:{child.object_id}")

    visit(root, f"alert:{alert_id}")
    return lines


def _active_run() -> str | None:
    try:
        from kiln.fluent import active_run

        run = active_run()
    except KilnError:
        return None
    return run.run_id if run is not None else None


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, int | float) else str(value)
