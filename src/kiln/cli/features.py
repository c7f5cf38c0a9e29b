"""``kiln features``: apply definitions, list them, materialize, look up, serve over HTTP."""

from __future__ import annotations

import json
from typing import Any

import click

from kiln.cli._output import emit, emit_json, fmt_time, json_option
from kiln.cli._ws import workspace


@click.group()
def features() -> None:
    """Feature views: definitions, materialization and online lookups."""


@features.command("apply")
@click.argument("module")
def apply_cmd(module: str) -> None:
    """Register the entities and feature views defined in MODULE (a dotted name or a .py
    file); prints what changed against the previous definitions."""
    from kiln.features.registry import collect

    report = workspace().apply_features(collect(module))
    click.echo(report.describe())


@features.command("list")
@json_option
def list_cmd(as_json: bool) -> None:
    """List the registered feature views (latest versions)."""
    ws = workspace()
    rows = []
    for d in ws.list_feature_views():
        state = ws.store.get_materialization(d.name, ws.online_target)
        rows.append({
            "name": d.name, "version": d.version,
            "entities": ", ".join(e["name"] for e in d.spec["entities"]),
            "features": len(d.spec["features"]),
            "ttl_seconds": d.spec.get("ttl_seconds"),
            "materialized_until": fmt_time(state.until) if state else "",
            "created": fmt_time(d.created_at), "user": d.user,
        })
    emit(rows, ["name", "version", "entities", "features", "ttl_seconds",
                "materialized_until", "created"], as_json, title="Feature views")


@features.command("show")
@click.argument("name")
@json_option
def show_cmd(name: str, as_json: bool) -> None:
    """Show every version of feature view NAME."""
    versions = workspace().store.list_feature_definition_versions("feature_view", name)
    if as_json:
        emit_json([{"name": d.name, "version": d.version, "digest": d.digest,
                    "created": d.created_at, "user": d.user, "spec": d.spec}
                   for d in versions])
        return
    latest = versions[-1]
    click.echo(f"{name} v{latest.version} ({len(versions)} version(s)), source "
               f"{json.dumps(latest.spec['source'])}")
    for f in latest.spec["features"]:
        click.echo(f"  {f['name']}: {f['dtype']}")


@features.command("materialize")
@click.argument("views", nargs=-1)
@click.option("--start", help="Window start (ISO date/time, UTC if naive). Default: "
                              "incremental, from where the last run stopped.")
@click.option("--end", help="Window end, exclusive (default: now).")
def materialize_cmd(views: tuple[str, ...], start: str | None, end: str | None) -> None:
    """Push the latest values of VIEWS (default: all) into the online store."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    ws = workspace()
    tasks: dict[str, Any] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  transient=True) as progress:

        def on_progress(view: str, done: int, total: int) -> None:
            if view not in tasks:
                tasks[view] = progress.add_task(f"materialize {view}", total=total)
            progress.update(tasks[view], completed=done)

        results = ws.materialize(list(views) or None, start=start, end=end,
                                 on_progress=on_progress)
    for r in results:
        window = f"{fmt_time(r.start) or 'beginning'} .. {fmt_time(r.end)}"
        click.echo(f"{r.view} v{r.version}: {r.rows} entities written ({window}) in "
                   f"{r.seconds:.2f} s")


@features.command("get")
@click.argument("features_", metavar="FEATURES", nargs=-1, required=True)
@click.option("--entity", "-e", "entities", multiple=True, required=True,
              help="KEY=VALUE of one entity row (repeat for more rows, comma for more keys).")
@json_option
def get_cmd(features_: tuple[str, ...], entities: tuple[str, ...], as_json: bool) -> None:
    """Look up FEATURES (view:feature) online for the given entities."""
    rows = [_parse_entity(e) for e in entities]
    result = workspace().get_online_features(rows, list(features_))
    data = result.to_json()
    if as_json:
        emit_json(data)
        return
    out = []
    for i, row in enumerate(rows):
        line = dict(row)
        for name, values in data["features"].items():
            line[name] = values[i]
            age = data["age_seconds"][name][i]
            line[f"{name} age_s"] = None if age is None else round(age, 1)
        out.append(line)
    emit(out, list(out[0]), False, title="Online features")


def _parse_entity(text: str) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, raw = part.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{text!r}: use KEY=VALUE[,KEY=VALUE]", param_hint="--entity")
        row[key.strip()] = int(raw) if raw.strip().lstrip("-").isdigit() else raw.strip()
    return row


@features.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=6566, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="Worker processes (each opens the workspace from settings).")
def serve_cmd(host: str, port: int, workers: int) -> None:
    """Serve online features over HTTP (POST /get-online-features)."""
    from kiln.features.server import serve

    click.echo(f"serving online features on http://{host}:{port} (Ctrl-C to stop)")
    serve(host, port, workers)
