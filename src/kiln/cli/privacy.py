"""``kiln privacy forget``: honour a data subject's request to be forgotten."""

from __future__ import annotations

import click

from kiln.cli._output import emit_json, json_option
from kiln.cli._ws import workspace


@click.group()
def privacy() -> None:
    """Data subject requests (GDPR/CCPA)."""


@privacy.command("forget")
@click.option("--key", "key_value", required=True, help="COLUMN=VALUE, e.g. customer_id=123.")
@click.option("--dry-run", is_flag=True, help="Report only; nothing removed or logged.")
@json_option
def forget(key_value: str, dry_run: bool, as_json: bool) -> None:
    """Remove the subject's rows where kiln can, and report what else holds them."""
    from kiln.governance.privacy import forget as do_forget
    from kiln.governance.privacy import parse_key

    key, value = parse_key(key_value)
    reports = do_forget(workspace(), key, value, dry_run=dry_run)
    if as_json:
        emit_json([{"forgetter": r.forgetter, "removed": r.removed,
                    "needs_removal": r.needs_removal, "note": r.note} for r in reports])
        return
    for r in reports:
        click.echo(f"{r.forgetter}: removed {len(r.removed)}, needs removal "
                   f"{len(r.needs_removal)}" + (f" ({r.note})" if r.note else ""))
        for item in r.removed:
            click.echo(f"  removed: {item}")
        for item in r.needs_removal:
            click.echo(f"  needs removal: {item}")
    if not dry_run:
        click.echo("request recorded in the audit log (value hashed)")
