"""``kiln monitor`` (create, run, show, report, list, profile, delete, promote, feedback,
exporter) and ``kiln alert`` (add, rules, remove, list, chain)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kiln.cli._output import emit, emit_json, emit_table, fmt_time, json_option
from kiln.cli._ws import workspace
from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.entities import Alert, MonitorResult


def _fmt_ms(ms: int) -> str:
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000),
                       ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _yes_no(value: Any) -> str:
    return "" if value is None else ("yes" if value else "no")


PERF_KEYS = ("accuracy", "roc_auc", "f1", "log_loss", "mae", "rmse", "r2")


def window_row(r: MonitorResult) -> dict[str, Any]:
    """One line of ``kiln monitor show``: the headline figures of a window."""
    d = r.data
    drift, perf, ab = d.get("drift") or {}, d.get("performance") or {}, d.get("ab") or {}
    row: dict[str, Any] = {
        "window": r.seq, "end": fmt_time(r.window_end), "status": r.status, "rows": r.rows,
        "labelled": d.get("labelled", ""),
        "drift share": drift.get("share_of_drifted_features"),
        "drifted": ", ".join(drift.get("drifted", [])[:4])
        + (" ..." if len(drift.get("drifted", [])) > 4 else ""),
        "pred drift": _yes_no((d.get("prediction_drift") or {}).get("drifted")),
    }
    for key in PERF_KEYS:
        if key in perf:
            row[key] = perf[key]
    if ab:
        row["A/B"] = (f"{ab.get('winner_route') or 'none'} p={ab.get('p_value', float('nan')):.3g}"
                      if isinstance(ab.get("p_value"), int | float) else "")
    if r.status == "empty":
        row["drifted"] = "no traffic: not measured"
    return row


@click.group()
def monitor() -> None:
    """Monitors: drift, data quality, performance from feedback, A/B analysis over windows."""


@monitor.command("create")
@click.argument("name")
@click.option("--deployment", "-d", required=True, help="The deployment to watch.")
@click.option("--every", default="1h", show_default=True, help="How often a window runs.")
@click.option("--window", default="24h", show_default=True, help="How far back a window reads.")
@click.option("--feature", "features", multiple=True,
              help="Watch only these features (default: the model's inputs).")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="Significance level of the A/B test.")
@click.option("--min-effect", type=float, default=0.02, show_default=True,
              help="Smallest difference worth detecting (sample size still needed).")
@click.option("--promote", is_flag=True,
              help="Promote a significantly better challenger through the gates.")
@click.option("--no-schedule", is_flag=True, help="Do not register it with the scheduler.")
def create(name: str, deployment: str, every: str, window: str, features: tuple[str, ...],
           alpha: float, min_effect: float, promote: bool, no_schedule: bool) -> None:
    """Create monitor NAME on a deployment: kiln monitor create churn-drift -d churn."""
    config: dict[str, Any] = {"alpha": alpha, "min_effect": min_effect, "promote": promote}
    if features:
        config["features"] = list(features)
    m = workspace().create_monitor(name, deployment, every=every, window=window,
                                   schedule=not no_schedule, **config)
    sched = "" if no_schedule else "; `kiln scheduler` runs it on schedule"
    click.echo(f"monitor {m.name} on deployment {m.deployment}: every "
               f"{_fmt_ms(m.every_ms)}, window {_fmt_ms(m.window_ms)}{sched}")


@monitor.command("run")
@click.argument("name", required=False)
@json_option
def run(name: str | None, as_json: bool) -> None:
    """Run monitor NAME (or every monitor) over its latest window now."""
    ws = workspace()
    names = [name] if name else [m.name for m in ws.store.list_monitors()]
    if not names:
        raise InvalidArgumentError("there are no monitors; create one with kiln monitor create")
    results = []
    for n in names:
        before = {a.alert_id for a in ws.store.list_alerts(n, limit=50)}
        res = ws.run_monitor(n)
        fired = [a for a in ws.store.list_alerts(n, limit=50) if a.alert_id not in before]
        results.append((n, res, fired))
    if as_json:
        emit_json([{**res.to_dict(), "alerts": [a.to_dict() for a in fired]}
                   for _, res, fired in results])
        return
    for n, res, fired in results:
        row = window_row(res)
        if res.status == "empty":
            click.echo(f"{n}: window {res.seq} is EMPTY: {res.data.get('message')}")
        else:
            figures = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                for k, v in row.items()
                                if k not in ("window", "end", "status") and v not in ("", None))
            click.echo(f"{n}: window {res.seq}: {figures}")
            if res.data.get("reference_error"):
                click.echo(f"  no drift measured: {res.data['reference_error']}")
        for a in fired:
            click.echo(f"  ALERT {a.alert_id} {a.rule}: {a.message}")


@monitor.command("show")
@click.argument("name")
@click.option("--last", type=int, default=20, show_default=True, help="Windows to show.")
@json_option
def show(name: str, last: int, as_json: bool) -> None:
    """The monitor's windows over time: drift, performance, A/B."""
    ws = workspace()
    mon = ws.store.get_monitor(name)
    results = ws.monitor_results(name, last)
    if as_json:
        emit_json({**mon.to_dict(), "windows": [r.to_dict() for r in results],
                   "alerts": [a.to_dict() for a in ws.list_alerts(name)]})
        return
    rows = [window_row(r) for r in results]
    columns = ["window", "end", "status", "rows", "labelled", "drift share", "drifted",
               "pred drift", *[k for k in PERF_KEYS if any(k in r for r in rows)]]
    if any("A/B" in r for r in rows):
        columns.append("A/B")
    if not rows:
        click.echo(f"monitor {name} has no windows yet; run it: kiln monitor run {name}")
        return
    emit_table(rows, columns, title=f"Monitor {name} on {mon.deployment} (every "
               f"{_fmt_ms(mon.every_ms)}, window {_fmt_ms(mon.window_ms)})")


@monitor.command("list")
@json_option
def list_monitors(as_json: bool) -> None:
    """Every monitor and its latest window."""
    ws = workspace()
    rows = []
    for m in ws.store.list_monitors():
        latest = ws.store.list_monitor_results(m.name, limit=1)
        rows.append({"name": m.name, "deployment": m.deployment, "every": _fmt_ms(m.every_ms),
                     "window": _fmt_ms(m.window_ms), "windows": latest[0].seq if latest else 0,
                     "latest": latest[0].status if latest else "",
                     "rules": len(ws.store.list_alert_rules(m.name))})
    emit(rows, ["name", "deployment", "every", "window", "windows", "latest", "rules"],
         as_json, title="Monitors")


@monitor.command("delete")
@click.argument("name")
def delete(name: str) -> None:
    """Delete monitor NAME and its rules (its windows and alerts stay as history)."""
    workspace().store.delete_monitor(name)
    click.echo(f"monitor {name} deleted")


@monitor.command("profile")
@click.argument("model_ref", metavar="MODEL@VERSION")
@click.option("--dataset", help="The training dataset NAME@VERSION (default: from lineage).")
def profile(model_ref: str, dataset: str | None) -> None:
    """Compute and store the reference profile of a model version's training data."""
    model, sep, version = model_ref.replace("/", "@").partition("@")
    if not sep or not version:
        raise InvalidArgumentError(f"model {model_ref!r} is not accepted; use MODEL@VERSION, "
                                   "e.g. churn-clf@3")
    p = workspace().build_reference_profile(model, version, dataset=dataset)
    click.echo(f"reference profile of {p.model} v{p.version}: {p.rows} rows of {p.dataset} "
               f"(artifact {p.artifact[:12]})")


@monitor.command("report")
@click.argument("name")
@click.option("--html", "html_path", required=True, help="Where to write the HTML report.")
@click.option("--last", type=int, default=100, show_default=True, help="Windows to include.")
def report(name: str, html_path: str, last: int) -> None:
    """Write an HTML report: each feature against the reference, every figure over time."""
    from kiln.monitoring.reporting import write_report

    path = write_report(workspace(), name, html_path, last=last)
    click.echo(f"report written to {path} ({path.stat().st_size // 1024} KB)")


@monitor.command("promote")
@click.argument("name")
def promote_cmd(name: str) -> None:
    """Promote the challenger if the latest A/B analysis finds it better (through the gates)."""
    from kiln.monitoring.loop import promote_if_better

    decision = promote_if_better(workspace(), name)
    click.echo(("promoted: " if decision.promoted else "not promoted: ") + decision.reason)


@monitor.command("feedback")
@click.argument("deployment")
@click.argument("labels", nargs=-1, required=True, metavar="REQUEST_ID=LABEL...")
def feedback(deployment: str, labels: tuple[str, ...]) -> None:
    """Store ground truth for logged requests (checked against the prediction log)."""
    import yaml

    parsed: dict[str, Any] = {}
    for item in labels:
        rid, sep, raw = item.partition("=")
        if not sep or not rid:
            raise InvalidArgumentError(f"feedback {item!r} is not accepted; use "
                                       "REQUEST_ID=LABEL")
        parsed[rid] = yaml.safe_load(raw)
    n = workspace().record_feedback(deployment, parsed)
    click.echo(f"stored {n} label(s) for deployment {deployment}")


@monitor.command("exporter")
@click.option("--port", type=int, default=9108, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def exporter(port: int, host: str) -> None:
    """Serve every monitor's latest figures as Prometheus gauges until stopped."""
    import threading

    from kiln.monitoring.metrics import serve_exporter

    serve_exporter(workspace(), port, host)
    click.echo(f"monitor gauges on http://{host}:{port}/metrics; stop with Ctrl-C", err=True)
    threading.Event().wait()


# -- alerts -------------------------------------------------------------------------------
def _alert_row(a: Alert) -> dict[str, Any]:
    return {"id": a.alert_id, "monitor": a.monitor, "rule": a.rule, "value": a.value,
            "window": a.window_seq, "time": fmt_time(a.created_at),
            "sent": ", ".join(f"{k}: {v}" for k, v in a.sinks.items())}


@click.group()
def alert() -> None:
    """Alert rules on monitor figures, and the alerts they fired."""


@alert.command("add")
@click.argument("monitor_name", metavar="MONITOR")
@click.argument("expression")
@click.option("--name", help="The rule's name (default: from the figure).")
@click.option("--sink", "sinks", multiple=True,
              help="log, pipeline[:EVENT], webhook:URL (repeat; default: log and pipeline).")
@click.option("--cooldown", default="1h", show_default=True,
              help="Silence repeats of this rule for this long.")
def add(monitor_name: str, expression: str, name: str | None, sinks: tuple[str, ...],
        cooldown: str) -> None:
    """Add a rule: kiln alert add churn-drift 'drift.share_of_drifted_features > 0.3'."""
    rule = workspace().add_alert_rule(monitor_name, expression, name=name,
                                      sinks=sinks or ("log", "pipeline"), cooldown=cooldown)
    click.echo(f"rule {rule.name} on {rule.monitor}: {rule.expression} -> "
               f"{', '.join(rule.sinks)} (cool-down {_fmt_ms(rule.cooldown_ms)})")


@alert.command("rules")
@click.argument("monitor_name", metavar="[MONITOR]", required=False)
@json_option
def rules(monitor_name: str | None, as_json: bool) -> None:
    """List alert rules."""
    items = workspace().store.list_alert_rules(monitor_name)
    emit([{**r.to_dict(), "sinks": ", ".join(r.sinks), "cooldown": _fmt_ms(r.cooldown_ms)}
          if not as_json else r.to_dict() for r in items],
         ["monitor", "name", "expression", "sinks", "cooldown"], as_json, title="Alert rules")


@alert.command("remove")
@click.argument("monitor_name", metavar="MONITOR")
@click.argument("name")
def remove(monitor_name: str, name: str) -> None:
    """Remove a rule."""
    workspace().store.delete_alert_rule(monitor_name, name)
    click.echo(f"rule {name} removed from {monitor_name}")


@alert.command("list")
@click.argument("monitor_name", metavar="[MONITOR]", required=False)
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
def list_alerts(monitor_name: str | None, limit: int, as_json: bool) -> None:
    """Fired alerts, newest first."""
    items = workspace().list_alerts(monitor_name, limit)
    if as_json:
        emit_json([a.to_dict() for a in items])
        return
    emit([_alert_row(a) for a in items], ["id", "monitor", "rule", "value", "window", "time",
                                          "sent"], False, title="Alerts")


@alert.command("chain")
@click.argument("alert_id", type=int)
def chain(alert_id: int) -> None:
    """What an alert led to: pipeline run, model version, deployment changes."""
    from kiln.monitoring.loop import loop_chain

    ws = workspace()
    ws.store.get_alert(alert_id)
    for line in loop_chain(ws, alert_id):
        click.echo(line)
