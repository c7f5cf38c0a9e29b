"""``kiln runs`` and ``kiln experiments``."""

from __future__ import annotations

from typing import Any

import click

from kiln.cli._output import emit, emit_json, emit_table, fmt_time, json_option
from kiln.cli._ws import workspace
from kiln.entities import Run


def _run_row(run: Run, metric_keys: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": run.run_id,
        "experiment": run.experiment,
        "name": run.name,
        "status": run.status.value,
        "start_time": fmt_time(run.start_time),
        "end_time": fmt_time(run.end_time),
        "user": run.user,
    }
    row.update({f"metrics.{k}": run.metrics.get(k) for k in metric_keys})
    return row


def _run_json(run: Run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "experiment": run.experiment,
        "name": run.name,
        "status": run.status.value,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "user": run.user,
        "parent_run_id": run.parent_run_id,
        "error": run.error,
        "params": run.params,
        "metrics": run.metrics,
        "tags": run.tags,
    }


@click.group()
def runs() -> None:
    """Tracked runs: list, show, compare."""


@runs.command("list")
@click.option("--experiment", "-e", multiple=True, help="Only runs of this experiment.")
@click.option("--filter", "-f", "filter_", help="e.g. \"metrics.auc > 0.9 and params.C = '1'\"")
@click.option("--order-by", "-o", multiple=True, help='e.g. "metrics.auc DESC"')
@click.option("--max-results", "-n", default=100, show_default=True, type=int)
@json_option
def list_runs(
    experiment: tuple[str, ...],
    filter_: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    as_json: bool,
) -> None:
    """List runs, newest first unless --order-by says otherwise."""
    found = workspace().search_run_objects(
        list(experiment) or None, filter_, list(order_by), max_results
    )
    if as_json:
        emit_json([_run_json(r) for r in found])
        return
    # Keep the table readable in 80 columns: ordered-by metrics first, then a few others.
    ordered = [o.split()[0].removeprefix("metrics.") for o in order_by
               if o.startswith("metrics.")]
    others = sorted({k for r in found for k in r.metrics} - set(ordered))
    metric_keys = (ordered + others)[:4]
    columns = ["run_id", "name", "status", "start_time"]
    if len({r.experiment for r in found}) > 1:
        columns.insert(1, "experiment")
    columns += [f"metrics.{k}" for k in metric_keys]
    emit([_run_row(r, metric_keys) for r in found], columns, False, title="Runs")


@runs.command("show")
@click.argument("run_id")
@json_option
def show_run(run_id: str, as_json: bool) -> None:
    """Show one run: attributes, params, metrics, tags and artifacts."""
    ws = workspace()
    run = ws.get_run(run_id)
    artifacts = ws.list_artifacts(run_id)
    if as_json:
        data = _run_json(run)
        data["artifacts"] = [{"path": a.path, "sha256": a.sha256, "size": a.size}
                             for a in artifacts]
        emit_json(data)
        return
    attrs = _run_row(run, [])
    attrs["parent_run_id"] = run.parent_run_id or ""
    if run.error:
        attrs["error"] = run.error
    emit_table([{"field": k, "value": v} for k, v in attrs.items()], ["field", "value"],
               title=f"Run {run.run_id}")
    for title, values in (("Params", run.params), ("Metrics", run.metrics), ("Tags", run.tags)):
        if values:
            emit_table([{"key": k, "value": v} for k, v in sorted(values.items())],
                       ["key", "value"], title=title)
    if artifacts:
        emit_table([{"path": a.path, "size": a.size, "sha256": a.sha256[:16]} for a in artifacts],
                   ["path", "size", "sha256"], title="Artifacts")


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--all", "show_all", is_flag=True, help="Also show params that are equal.")
@json_option
def compare_runs(run_ids: tuple[str, ...], show_all: bool, as_json: bool) -> None:
    """Compare params and metrics of several runs side by side (differences by default)."""
    ws = workspace()
    found = [ws.get_run(r) for r in run_ids]
    rows: list[dict[str, Any]] = []
    for kind in ("params", "metrics"):
        keys = sorted({k for r in found for k in getattr(r, kind)})
        for key in keys:
            values = [getattr(r, kind).get(key) for r in found]
            if kind == "params" and not show_all and len({str(v) for v in values}) == 1:
                continue
            row: dict[str, Any] = {"key": f"{kind}.{key}"}
            row.update({r.run_id[:8]: v for r, v in zip(found, values, strict=True)})
            rows.append(row)
    if as_json:
        emit_json({"runs": [_run_json(r) for r in found], "rows": rows})
        return
    emit(rows, ["key", *[r.run_id[:8] for r in found]], False, title="Comparison")


@click.group()
def experiments() -> None:
    """Experiments: list."""


@experiments.command("list")
@json_option
def list_experiments(as_json: bool) -> None:
    """List experiments."""
    rows = [
        {"experiment_id": e.experiment_id, "name": e.name, "created_at": fmt_time(e.created_at)}
        for e in workspace().list_experiments()
    ]
    emit(rows, ["experiment_id", "name", "created_at"], as_json, title="Experiments")
