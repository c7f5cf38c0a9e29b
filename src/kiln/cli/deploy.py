"""``kiln deploy``: deployments (create, list, show, set-weights, rollback, package)."""

from __future__ import annotations

from typing import Any

import click

from kiln.cli._output import emit, emit_json, emit_table, fmt_time, json_option
from kiln.cli._ws import workspace
from kiln.entities import CanaryPolicy, Deployment


def _routes(d: Deployment) -> str:
    return ", ".join(f"{r.target}:{r.weight:g}" for r in d.routes)


def _json(d: Deployment) -> dict[str, Any]:
    return {"name": d.name, "version": d.version, "action": d.action, "user": d.user,
            "created_at": d.created_at, "message": d.message, **d.spec.to_dict()}


@click.group()
def deploy() -> None:
    """Deployments: which registered models get which share of the traffic."""


@deploy.command("create")
@click.argument("name")
@click.option("--route", "routes", multiple=True, required=True,
              help="MODEL@ALIAS:WEIGHT or MODEL/VERSION:WEIGHT (repeat for an A/B split).")
@click.option("--shadow", "shadows", multiple=True,
              help="MODEL@ALIAS or MODEL/VERSION receiving a copy of the traffic.")
@click.option("--sticky-key", help="header:NAME or field:NAME: the same key always gets the "
              "same route.")
@click.option("--canary", help="The route to watch and roll back automatically.")
@click.option("--max-error-rate", type=float, default=0.05, show_default=True)
@click.option("--max-latency-ms", type=float, default=250.0, show_default=True)
@click.option("--window", type=int, default=200, show_default=True,
              help="Canary requests considered.")
@click.option("--message", "-m", default="", help="Why (kept in the history).")
def create(name: str, routes: tuple[str, ...], shadows: tuple[str, ...], sticky_key: str | None,
           canary: str | None, max_error_rate: float, max_latency_ms: float, window: int,
           message: str) -> None:
    """Create deployment NAME."""
    policy = None
    if canary:
        from kiln.serving.spec import parse_route

        target = parse_route(canary if ":" in canary else canary + ":0").target
        policy = CanaryPolicy(target, max_error_rate, max_latency_ms, window,
                              min(20, window))
    d = workspace().create_deployment(name, routes, shadows, sticky_key=sticky_key,
                                      canary=policy, message=message)
    shadow_text = f"; shadows {', '.join(r.target for r in d.shadows)}" if d.shadows else ""
    click.echo(f"deployment {d.name} version {d.version}: {_routes(d)}{shadow_text}")


@deploy.command("list")
@json_option
def list_deployments(as_json: bool) -> None:
    """List deployments at their current version."""
    items = workspace().list_deployments()
    if as_json:
        emit_json([_json(d) for d in items])
        return
    rows = [{"name": d.name, "version": d.version, "routes": _routes(d),
             "shadows": ", ".join(r.target for r in d.shadows),
             "updated": fmt_time(d.created_at), "by": d.user} for d in items]
    emit(rows, ["name", "version", "routes", "shadows", "updated", "by"], False,
         title="Deployments")


@deploy.command("show")
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """Show a deployment: its routes, what each resolves to now, and its full history."""
    ws = workspace()
    history = ws.deployment_history(name)
    current = history[-1]
    if as_json:
        emit_json({**_json(current), "history": [_json(d) for d in history]})
        return
    rows = [{"route": r.target, "weight": r.weight, "kind": "route",
             "model_version": ws.resolve_route(r)} for r in current.routes]
    rows += [{"route": r.target, "weight": "", "kind": "shadow",
              "model_version": ws.resolve_route(r)} for r in current.shadows]
    emit_table(rows, ["route", "kind", "weight", "model_version"],
               title=f"Deployment {name} version {current.version}")
    emit_table([{"version": d.version, "action": d.action, "routes": _routes(d),
                 "by": d.user, "time": fmt_time(d.created_at), "message": d.message}
                for d in history],
               ["version", "action", "routes", "by", "time", "message"], title="History")


@deploy.command("set-weights")
@click.argument("name")
@click.argument("weights", nargs=-1, required=True)
@click.option("--message", "-m", default="")
def set_weights(name: str, weights: tuple[str, ...], message: str) -> None:
    """Change route weights: kiln deploy set-weights churn churn-clf@production:50 ..."""
    d = workspace().set_weights(name, list(weights), message=message)
    click.echo(f"deployment {d.name} version {d.version}: {_routes(d)}")


@deploy.command("rollback")
@click.argument("name")
@click.option("--to", "to_version", type=int, help="Version to restore (default: previous).")
@click.option("--message", "-m", default="")
def rollback(name: str, to_version: int | None, message: str) -> None:
    """Serve again what an earlier version served (recorded as a new version)."""
    d = workspace().rollback_deployment(name, to_version, message=message)
    click.echo(f"deployment {d.name} version {d.version} ({d.message}): {_routes(d)}")


@deploy.command("package")
@click.argument("name")
@click.option("--output", "-o", default=None, help="Folder to write (default: ./NAME-package).")
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--replicas", type=int, default=2, show_default=True)
@click.option("--image", default=None, help="Image name in the manifests.")
def package(name: str, output: str | None, port: int, replicas: int, image: str | None) -> None:
    """Write a container build context and Kubernetes manifests for deployment NAME."""
    files = workspace().package_deployment(name, output or f"{name}-package", port=port,
                                           replicas=replicas, image=image)
    for path in files:
        click.echo(str(path))
