"""``kiln models``: registered models, versions and aliases."""

from __future__ import annotations

from typing import Any

import click

from kiln.cli._output import emit, emit_json, emit_table, fmt_time, json_option
from kiln.cli._ws import workspace
from kiln.entities import ModelVersion


def _version_row(mv: ModelVersion) -> dict[str, Any]:
    return {
        "name": mv.name,
        "version": mv.version,
        "aliases": ", ".join(mv.aliases),
        "flavor": mv.flavor,
        "run_id": mv.run_id or "",
        "created_at": fmt_time(mv.created_at),
        "user": mv.user,
        "inputs": len(mv.signature.inputs) if mv.signature else "",
    }


def _version_json(mv: ModelVersion) -> dict[str, Any]:
    return {
        "name": mv.name,
        "version": mv.version,
        "aliases": list(mv.aliases),
        "flavor": mv.flavor,
        "run_id": mv.run_id,
        "artifact": mv.artifact,
        "created_at": mv.created_at,
        "user": mv.user,
        "description": mv.description,
        "signature": mv.signature.to_dict() if mv.signature else None,
    }


@click.group()
def models() -> None:
    """Registered models, versions and aliases."""


@models.command("list")
@json_option
def list_models(as_json: bool) -> None:
    """List registered models with their latest version and aliases."""
    rows = [
        {
            "name": m.name,
            "latest_version": m.latest_version,
            "aliases": ", ".join(f"{a}→{v}" for a, v in sorted(m.aliases.items())),
            "created_at": fmt_time(m.created_at),
        }
        for m in workspace().list_models()
    ]
    emit(rows, ["name", "latest_version", "aliases", "created_at"], as_json, title="Models")


@models.command("versions")
@click.argument("name")
@json_option
def list_versions(name: str, as_json: bool) -> None:
    """List the versions of a model."""
    versions = workspace().list_model_versions(name)
    if as_json:
        emit_json([_version_json(v) for v in versions])
        return
    columns = ["version", "aliases", "flavor", "run_id", "created_at", "user"]
    emit([_version_row(v) for v in versions], columns, False, title=f"Versions of {name}")


@models.command("show")
@click.argument("name_or_uri")
@json_option
def show_model(name_or_uri: str, as_json: bool) -> None:
    """Show a model (NAME) or one version (models:/NAME/3, models:/NAME@production)."""
    ws = workspace()
    if name_or_uri.startswith("models:/"):
        mv = ws.get_model_version_by_uri(name_or_uri)
        if as_json:
            emit_json(_version_json(mv))
            return
        row = _version_row(mv)
        row["artifact"] = mv.artifact
        emit_table([{"field": k, "value": v} for k, v in row.items()], ["field", "value"],
                   title=f"{mv.name} version {mv.version}")
        if mv.signature:
            emit_table(mv.signature.inputs, ["name", "type"], title="Signature inputs")
        return
    model = ws.get_model(name_or_uri)
    versions = ws.list_model_versions(name_or_uri)
    history = ws.alias_history(name_or_uri)
    if as_json:
        emit_json({
            "name": model.name,
            "created_at": model.created_at,
            "latest_version": model.latest_version,
            "aliases": model.aliases,
            "versions": [_version_json(v) for v in versions],
            "alias_history": [_event(e) for e in history],
        })
        return
    emit_table([_version_row(v) for v in versions],
               ["version", "aliases", "flavor", "run_id", "created_at", "user"],
               title=f"Model {model.name}")
    if history:
        emit_table([_event(e) for e in history],
                   ["alias", "from_version", "to_version", "user", "time"], title="Alias history")


def _event(e: Any) -> dict[str, Any]:
    return {
        "alias": e.alias,
        "from_version": e.from_version,
        "to_version": e.to_version,
        "user": e.user,
        "time": fmt_time(e.timestamp),
    }


@models.group("alias")
def alias() -> None:
    """Move or delete an alias (every move is kept in the history)."""


@alias.command("set")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version")
def set_alias(name: str, alias_name: str, version: str) -> None:
    """Point ALIAS of model NAME at VERSION."""
    workspace().set_alias(name, alias_name, version)
    click.echo(f"{name}@{alias_name} -> version {version}")


@alias.command("delete")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
def delete_alias(name: str, alias_name: str) -> None:
    """Delete ALIAS of model NAME."""
    workspace().delete_alias(name, alias_name)
    click.echo(f"deleted {name}@{alias_name}")


@models.command("convert")
@click.argument("name")
@click.argument("version")
@click.option("--to", "target", type=click.Choice(["onnx"]), required=True,
              help="The format to convert to.")
@click.option("--tolerance", type=float, default=None, show_default="1e-4",
              help="Largest absolute difference accepted on the input example.")
@click.option("--trusted", is_flag=True, help="Load a pickle another user wrote.")
@json_option
def convert(name: str, version: str, target: str, tolerance: float | None, trusted: bool,
            as_json: bool) -> None:
    """Convert version VERSION of model NAME to ONNX, check it, register it as a new version."""
    from kiln.registry.convert import DEFAULT_TOLERANCE, convert_to_onnx

    done = convert_to_onnx(workspace(), name, version, trusted=trusted,
                           tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance)
    if as_json:
        emit_json({"source": _version_json(done.source), "target": _version_json(done.target),
                   "converter": done.converter, "tolerance": done.tolerance,
                   "max_abs_diff": done.max_abs_diff, "rows": done.rows})
        return
    click.echo(f"converted {done.summary}")


def _add_governance_commands() -> None:
    from kiln.cli.model_gates import COMMANDS

    for command in COMMANDS:
        models.add_command(command)


_add_governance_commands()
