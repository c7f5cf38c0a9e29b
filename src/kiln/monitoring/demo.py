"""The monitoring stage of ``kiln demo``: the whole feedback loop on one deployment.

Serve ``breast-cancer-monitored`` (production only), send normal traffic with
feedback, then drifted traffic (size features x1.3, as if a new scanner measured
larger): the monitor's drift rule raises an alert; the scheduler's ``on_alert``
trigger runs :data:`retraining`, which trains on the alert window's labelled traffic,
registers the new version as ``challenger`` and gives it half the traffic; the next
window's A/B analysis finds it better with significance, and it is promoted through
the gates. The chain is read back from the lineage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from kiln.pipelines.dsl import Pipeline, pipeline, step
from kiln.pipelines.triggers import on_alert

if TYPE_CHECKING:
    from rich.console import Console

    from kiln.entities import Alert, MonitorResult
    from kiln.monitoring.loop import LoopDecision
    from kiln.workspace import Workspace

MODEL = "breast-cancer-monitored"
DEPLOYMENT = "breast-cancer-monitored"
MONITOR = "breast-cancer-drift"
EXPERIMENT = "breast-cancer-retraining"
TARGET = "target"
SHIFT = 1.3


def drifted(X: pd.DataFrame, factor: float = SHIFT) -> pd.DataFrame:
    """The rows as a recalibrated scanner would measure them: sizes ``factor`` larger."""
    out = X.copy()
    cols = [c for c in X.columns if c.startswith(("mean", "worst"))]
    out[cols] = out[cols] * factor
    return out


def send_traffic(ws: Workspace, deployment: str, X: pd.DataFrame, y: Any, n: int,
                 offset: int = 0) -> dict[str, int]:
    """Serve ``deployment`` in process and send ``n`` single-row requests (rows of ``X``
    in turn), then the true labels through ``/feedback``. The server stops afterwards,
    which writes its prediction log. Returns the requests per route."""
    import warnings

    with warnings.catch_warnings():  # starlette's notice about httpx, not ours to act on
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from kiln.serving.app import ServingApp
    from kiln.serving.runtime import ServerOptions

    app = ServingApp(ws, deployment, ServerOptions(log_flush_seconds=60, poll_seconds=60)).app
    rows = X.to_dict(orient="records")
    truth = [int(v) for v in y]
    by_route: dict[str, int] = {}
    items = []
    with TestClient(app) as client:
        for i in range(offset, offset + n):
            resp = client.post("/predict", json={"records": [rows[i % len(rows)]]})
            if resp.status_code != 200:
                raise RuntimeError(f"the demo server answered {resp.status_code}: {resp.text}")
            body = resp.json()
            by_route[body["route"]] = by_route.get(body["route"], 0) + 1
            items.append({"request_id": body["request_id"], "label": truth[i % len(truth)]})
        resp = client.post("/feedback", json={"items": items})
        if resp.status_code != 200:
            raise RuntimeError(f"feedback was refused: {resp.text}")
    return by_route


# -- the retraining pipeline, started by on_alert(MONITOR) ----------------------------------
@step(cache=False)
def alert_window(alert_event: str) -> pd.DataFrame:
    """The labelled rows of the window that raised the alert (features and target)."""
    from kiln.fluent import get_workspace
    from kiln.monitoring.window import LABEL, read_window

    ws = get_workspace()
    alert = _alert_of_event(ws, alert_event)
    result = next(r for r in ws.store.list_monitor_results(alert.monitor)
                  if r.seq == alert.window_seq)
    monitor = ws.store.get_monitor(alert.monitor)
    window = read_window(ws, monitor.deployment, result.window_start, result.window_end)
    labelled = window.labelled
    frame = labelled[window.features].copy()
    frame[TARGET] = labelled[LABEL].astype(int).to_numpy()
    frame.attrs = {}
    return frame.reset_index(drop=True)


@step(cache=False)
def snapshot_window(frame: pd.DataFrame, alert_event: str) -> str:
    """Keep the training rows as a dataset version (the new model's lineage, and the
    data of its reference profile)."""
    import tempfile
    from pathlib import Path

    from kiln.fluent import get_workspace

    ws = get_workspace()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "labelled_window.parquet"
        frame.to_parquet(path, index=False)
        version = ws.add_dataset(path, f"{_monitored_model(ws, alert_event)}-feedback",
                                 description=f"labelled traffic of alert event {alert_event}")
    return version.ref


@step(cache=False)
def train_challenger(dataset: str, alert_event: str) -> int:
    """Train on the labelled window; evaluate by cross-validation; register the version."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import kiln

    frame = kiln.data.load(dataset)  # recorded as the step's input
    assert isinstance(frame, pd.DataFrame)
    X, y = frame.drop(columns=[TARGET]), frame[TARGET]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    cv = cross_val_score(model, X, y, cv=3, scoring="accuracy")
    kiln.log_metric("cv_accuracy", float(cv.mean()))
    model.fit(X, y)
    ws = kiln.get_workspace()
    model_name = _monitored_model(ws, alert_event)
    run = kiln.active_run()
    assert run is not None
    mv = ws.log_model(run.run_id, model, model_name, input_example=X.head(5),
                      description=f"retrained on the labelled window of alert event "
                                  f"{alert_event} (cv accuracy {cv.mean():.3f})")
    assert mv is not None
    ws.build_reference_profile(mv.name, mv.version, dataset=dataset)  # at registration
    return mv.version


@step(cache=False)
def stage_challenger(version: int, alert_event: str, weight: float = 50.0) -> str:
    """Put the new version on the deployment as ``challenger`` with ``weight``%."""
    from kiln.fluent import get_workspace
    from kiln.monitoring.loop import deploy_challenger

    ws = get_workspace()
    alert = _alert_of_event(ws, alert_event)
    deployment = ws.store.get_monitor(alert.monitor).deployment
    dep = deploy_challenger(ws, deployment, _monitored_model(ws, alert_event), version,
                            weight=weight)
    return f"{dep.name}/{dep.version}"


@pipeline(experiment=EXPERIMENT, cache=False,
          triggers=[on_alert(MONITOR, param="alert_event")])
def retraining(alert_event: str = "", weight: float = 50.0) -> None:
    """Retrain on the labelled window of the alert, stage the result as challenger."""
    frame = alert_window(alert_event)
    version = train_challenger(snapshot_window(frame, alert_event), alert_event)
    stage_challenger(version, alert_event, weight=weight)


def retraining_pipeline(monitor: str = MONITOR) -> Pipeline:
    """:data:`retraining`, triggered by the alerts of ``monitor``."""
    return Pipeline(retraining.fn, name="retraining", experiment=EXPERIMENT, cache=False,
                    triggers=[on_alert(monitor, param="alert_event")])


def _alert_of_event(ws: Workspace, alert_event: str) -> Alert:
    from kiln.exceptions import InvalidArgumentError

    for monitor in ws.store.list_monitors():
        for event in ws.store.trigger_events("alert", monitor.name, int(alert_event) - 1):
            if event.event_id == int(alert_event) and "alert_id" in event.payload:
                return ws.store.get_alert(int(str(event.payload["alert_id"])))
    raise InvalidArgumentError(f"alert event {alert_event!r} is not known; the pipeline runs "
                               "from an alert (on_alert)")


def _monitored_model(ws: Workspace, alert_event: str) -> str:
    alert = _alert_of_event(ws, alert_event)
    dep = ws.get_deployment(ws.store.get_monitor(alert.monitor).deployment)
    return dep.routes[0].model


# -- the demo stage ---------------------------------------------------------------------
@dataclass
class LoopDemoResult:
    """What the loop stage did, for the summary and for tests."""

    windows: list[MonitorResult] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    pipeline_run: str = ""
    challenger: int = 0
    decision: LoopDecision | None = None
    chain: list[str] = field(default_factory=list)
    seconds: float = 0.0


def demo_policy(X: pd.DataFrame, y: Any) -> Any:
    """The gates a challenger passes before production: accuracy on recent (drifted)
    labelled data, and an unchanged input signature."""
    from kiln.governance.policy import Policy

    holdout = drifted(X).assign(**{TARGET: list(y)}).sample(frac=0.3, random_state=1)
    return Policy.from_dict({
        "model": MODEL,
        "datasets": {"recent": {"data": holdout, "label": TARGET}},
        "checks": [{"type": "metric", "metric": "accuracy", "dataset": "recent", "min": 0.9},
                   {"type": "signature"}],
    }, source="demo loop policy")


def loop_stage(ws: Workspace, console: Console, run_id: str, X: pd.DataFrame, y: Any,
               policy: Any = None) -> LoopDemoResult:
    """Run the loop on a model registered from training run ``run_id``."""
    from kiln.monitoring.loop import loop_chain, promote_if_better
    from kiln.pipelines.scheduler import Scheduler

    started = time.perf_counter()
    out = LoopDemoResult()
    order = X.sample(frac=1.0, random_state=7).index  # traffic in no particular order
    X, y = X.loc[order], pd.Series(list(y), index=X.index).loc[order]
    mv = ws.register_model(f"runs:/{run_id}/model", MODEL, description="the monitored model")
    ws.set_alias(MODEL, "production", mv.version)
    ws.create_deployment(DEPLOYMENT, [f"{MODEL}@production:100"], message="monitored")
    ws.create_monitor(MONITOR, DEPLOYMENT, every="1h", window="1h", schedule=False)
    ws.add_alert_rule(MONITOR, "drift.share_of_drifted_features > 0.3", name="drift",
                      sinks=("pipeline",))
    scheduler = Scheduler(ws, pipelines=[retraining], interval=1.0)
    scheduler.tick()  # the scheduler sees the on_alert trigger before any alert
    profile = ws.build_reference_profile(MODEL, mv.version)
    console.print(f"[bold]11. Monitoring[/]: monitor {MONITOR} on deployment {DEPLOYMENT}; "
                  f"reference profile of v{mv.version} from {profile.dataset} "
                  f"({profile.rows} rows, stored once)")

    t0 = _tick()
    send_traffic(ws, DEPLOYMENT, X, y, 100)
    t1 = _tick()
    out.windows.append(ws.run_monitor(MONITOR, start=t0, end=t1))
    send_traffic(ws, DEPLOYMENT, drifted(X), y, 150, offset=100)
    t2 = _tick()
    out.windows.append(ws.run_monitor(MONITOR, start=t1, end=t2))
    for w in out.windows:
        d = w.data
        console.print(f"   window {w.seq}: {w.rows} rows, drift share "
                      f"{d['drift']['share_of_drifted_features']:.2f}, prediction drift "
                      f"{'yes' if d['prediction_drift'].get('drifted') else 'no'}, accuracy "
                      f"{d['performance']['accuracy']:.3f} on {d['labelled']} labels")
    out.alerts = list(reversed(ws.list_alerts(MONITOR)))
    for a in out.alerts:
        console.print(f"[bold]12. Alert[/] {a.alert_id} [red]{a.rule}[/]: {a.message}")
    fired = scheduler.tick()
    if not fired or fired[0].status != "FINISHED":
        raise RuntimeError(f"the retraining pipeline did not run: {fired}")
    out.pipeline_run = fired[0].run_id or ""
    out.challenger = ws.store.get_alias(MODEL, "challenger")
    dep = ws.get_deployment(DEPLOYMENT)
    console.print(f"[bold]13. Retraining[/]: on_alert({MONITOR!r}) ran pipeline "
                  f"{out.pipeline_run[:8]}: {MODEL} v{out.challenger} registered as "
                  f"challenger; deployment v{dep.version}: "
                  + ", ".join(f"{r.target} {r.weight:g}" for r in dep.routes))
    routes = send_traffic(ws, DEPLOYMENT, drifted(X), y, 200, offset=250)
    t3 = _tick()
    ab_window = ws.run_monitor(MONITOR, start=t2, end=t3)
    out.windows.append(ab_window)
    ab = ab_window.data.get("ab", {})
    console.print(f"[bold]14. A/B[/]: {', '.join(f'{k} {v}' for k, v in routes.items())} "
                  f"requests; accuracy {ab.get('control')} "
                  f"{_route_acc(ab_window, ab.get('control'))} vs {ab.get('treatment')} "
                  f"{_route_acc(ab_window, ab.get('treatment'))}, p = "
                  f"{ab.get('p_value', float('nan')):.2g}, winner {ab.get('winner_route')}")
    out.decision = promote_if_better(ws, MONITOR, ab_window,
                                     policy=policy if policy is not None else demo_policy(X, y))
    console.print(f"[bold]15. Promotion[/]: {out.decision.reason}")
    drift_alert = next((a for a in out.alerts if a.rule == "drift"), None)
    if drift_alert is not None:
        out.chain = loop_chain(ws, drift_alert.alert_id)
        console.print("[bold]16. The chain[/] (kiln alert chain "
                      f"{drift_alert.alert_id}):")
        for line in out.chain:
            console.print(f"   {line}")
    out.seconds = time.perf_counter() - started
    return out


def _route_acc(result: MonitorResult, route: Any) -> str:
    perf = (result.data.get("performance_by_route") or {}).get(str(route)) or {}
    value = perf.get("accuracy")
    return f"{value:.3f}" if isinstance(value, float) else "?"


def _tick() -> int:
    """A window boundary: the time now, with a millisecond on either side of it."""
    from kiln._time import now_ms

    time.sleep(0.002)
    t = now_ms()
    time.sleep(0.002)
    return t
