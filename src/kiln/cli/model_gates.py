"""``kiln models promote|approve|evaluate|card``: promotion through gates and model cards."""

from __future__ import annotations

from pathlib import Path

import click

from kiln.cli._output import emit_json, json_option
from kiln.cli._ws import workspace


def print_checks(result: object, title: str) -> None:
    """A rich table of check, figure, threshold and verdict."""
    from rich.console import Console
    from rich.table import Table

    checks = getattr(result, "checks", [])
    table = Table(title=title, header_style="bold")
    for col in ("check", "figure", "threshold", "verdict"):
        table.add_column(col, overflow="fold")
    for c in checks:
        style = "green" if c.passed else "bold red"
        table.add_row(c.check, c.figure, c.threshold, f"[{style}]{c.verdict}[/]")
    Console().print(table)


@click.command("promote")
@click.argument("name")
@click.argument("version")
@click.option("--to", "alias", default="production", show_default=True, help="Alias to move.")
@click.option("--force", is_flag=True,
              help="Move even if a check fails (needs the admin role in kiln's users table; "
                   "recorded as forced).")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path),
              help="Policy file (default: policies/NAME.yaml or kiln-policy.yaml).")
@click.option("--dry-run", is_flag=True, help="Run the checks, move nothing.")
@json_option
def promote(name: str, version: str, alias: str, force: bool, policy_file: Path | None,
            dry_run: bool, as_json: bool) -> None:
    """Check the model's policy and point ALIAS at VERSION only if every check passes."""
    from kiln.governance.policy import load_policy_file

    ws = workspace()
    policy = load_policy_file(policy_file, name) if policy_file else None
    if dry_run:
        result = ws.check_gates(name, version, alias, policy=policy)
    else:
        result = ws.promote(name, version, alias, policy=policy, force=force)
    if as_json:
        emit_json(result.to_dict())
    else:
        if result.policy is None:
            click.echo(f"no policy guards {name}@{alias}: nothing to check")
        else:
            print_checks(result, f"{name} v{result.version} -> @{alias} ({result.policy})")
        if dry_run:
            click.echo("all checks pass" if result.passed else "some checks fail")
        elif result.forced:
            click.echo(f"FORCED: {name}@{alias} -> version {result.version} despite failing "
                       "checks (recorded in the audit log)")
        elif result.moved:
            click.echo(f"{name}@{alias} -> version {result.version}")
        else:
            click.echo(f"blocked: {name}@{alias} stays at version {result.previous}",
                       err=True)
    if not result.passed and not result.moved:
        raise SystemExit(1)


@click.command("approve")
@click.argument("name")
@click.argument("version")
@click.option("--as", "role", required=True,
              help="The role you approve as (you must hold it: kiln roles grant).")
@click.option("--comment", default="", help="Why.")
def approve(name: str, version: str, role: str, comment: str) -> None:
    """Record your approval of VERSION acting as ROLE (read by approval checks)."""
    a = workspace().approve(name, version, role, comment)
    click.echo(f"{a.actor} approved {a.name} v{a.version} as {a.role}")


@click.command("evaluate")
@click.argument("model_uri")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--label", required=True, help="Target column.")
@click.option("--sensitive", multiple=True, help="Sensitive attribute column (repeatable).")
@click.option("--dataset", default=None, help="Dataset name (default: the file name).")
@json_option
def evaluate(model_uri: str, data: Path, label: str, sensitive: tuple[str, ...],
             dataset: str | None, as_json: bool) -> None:
    """Evaluate MODEL_URI (models:/NAME/VERSION) on DATA (.csv/.parquet) and store it."""
    from kiln.cli._output import emit_table

    ev = workspace().evaluate(model_uri, str(data), label=label, sensitive=list(sensitive),
                              dataset=dataset or data.stem)
    if as_json:
        emit_json(ev.to_dict())
        return
    emit_table([{"metric": k, "value": v} for k, v in ev.metrics.items()], ["metric", "value"],
               title=f"{ev.model} v{ev.version} on {ev.dataset} ({ev.rows} rows)")
    for attr, figures in ev.fairness.items():
        emit_table([{"figure": k, "value": figures[k]} for k in
                    ("demographic_parity_difference", "equalized_odds_difference")],
                   ["figure", "value"], title=f"Fairness by {attr}")
    click.echo(f"stored as run {ev.run_id}")


@click.command("card")
@click.argument("name")
@click.argument("version")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="Folder for NAME-vVERSION-card.md and .html.")
def card(name: str, version: str, out_dir: Path) -> None:
    """Write the model card of VERSION as Markdown and HTML."""
    from kiln.governance.card import write_card

    md, html = write_card(workspace(), name, version, out_dir)
    click.echo(f"wrote {md}\nwrote {html}")


COMMANDS = [promote, approve, evaluate, card]
