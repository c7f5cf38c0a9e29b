"""``kiln audit``: the tamper-evident log of every change of state."""

from __future__ import annotations

import click

from kiln.cli._output import emit, fmt_time, json_option
from kiln.cli._ws import workspace


@click.group()
def audit() -> None:
    """Show and verify the hash-chained audit log."""


@audit.command("verify")
def verify() -> None:
    """Recompute the hash chain; name the first edited or deleted event (exit 1)."""
    result = workspace().verify_audit_log()
    if result.ok:
        click.echo(result.message())
        return
    click.echo(result.message(), err=True)
    raise SystemExit(1)


@audit.command("log")
@click.option("--object", "object_id", default=None,
              help="Object id: a run id, a model NAME (also its versions NAME/N).")
@click.option("--kind", default=None, help="Object kind: run, model, model_version...")
@click.option("--action", default=None, help="Action, e.g. alias.set, model.promote.")
@click.option("--limit", default=1000, show_default=True)
@json_option
def log(object_id: str | None, kind: str | None, action: str | None, limit: int,
        as_json: bool) -> None:
    """List audit events, oldest first."""
    events = workspace().audit_log(object_id, object_kind=kind, action=action, limit=limit)
    if as_json:
        rows = [{"seq": e.seq, "time": e.timestamp, "actor": e.actor, "action": e.action,
                 "object_kind": e.object_kind, "object_id": e.object_id, "before": e.before,
                 "after": e.after, "prev_hash": e.prev_hash, "hash": e.hash} for e in events]
        emit(rows, [], True)
        return
    rows = [{"seq": e.seq, "time": fmt_time(e.timestamp), "actor": e.actor,
             "action": e.action, "object": f"{e.object_kind} {e.object_id}",
             "change": _change(e.before, e.after)} for e in events]
    emit(rows, ["seq", "time", "actor", "action", "object", "change"], False,
         title="Audit events")


def _change(before: object, after: object) -> str:
    if isinstance(after, dict) and "checks" in after:
        failed = [c["check"] for c in after["checks"] if not c.get("passed")]
        state = "forced" if after.get("forced") else ("passed" if not failed else "blocked")
        return (f"@{after.get('alias')} -> v{after.get('version')} {state}"
                + (f" (failed: {', '.join(failed)})" if failed else ""))
    if isinstance(before, dict) and isinstance(after, dict):
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        return ", ".join(f"{k}: {before.get(k)} -> {v}" for k, v in changed.items())
    if isinstance(after, dict):
        shown = {k: v for k, v in after.items()
                 if v not in (None, "") and not isinstance(v, dict | list)
                 and len(str(v)) <= 40}
        return ", ".join(f"{k}={v}" for k, v in shown.items())
    if after is not None:
        text = str(after)
        return text if len(text) <= 80 else text[:77] + "..."
    return f"deleted {before}"
