"""``kiln ci check|promote`` and ``kiln init``."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import click

from kiln.cli._ws import workspace


@click.group()
def ci() -> None:
    """Run the project's promotion gates in any CI system."""


def _run(promote: bool, project: Path, train: str | None) -> None:
    from kiln.exceptions import KilnError
    from kiln.governance.ci import check_project, summary_markdown, write_summary

    if train:
        done = subprocess.run(shlex.split(train), cwd=project)
        if done.returncode != 0:
            raise KilnError(f"training command {train!r} failed with exit code "
                            f"{done.returncode}")
    checks = check_project(workspace(), project, promote=promote)
    text = summary_markdown(checks, promote=promote)
    target = write_summary(text)
    click.echo(text if target is None else f"summary written to {target}")
    failed = [c.model for c in checks if not c.passed]
    if failed:
        click.echo(f"gate failed for: {', '.join(failed)}", err=True)
        raise SystemExit(1)


_project = click.option("--project", type=click.Path(path_type=Path, file_okay=False),
                        default=Path("."), show_default=True, help="Project folder.")
_train = click.option("--train", default=None, help="Command to run first, e.g. 'python train.py'.")


@ci.command("check")
@_project
@_train
def check(project: Path, train: str | None) -> None:
    """Check the latest version of each model with a policy against it and against the
    version its alias points at; exit 1 when a gate fails."""
    _run(False, project, train)


@ci.command("promote")
@_project
@_train
def promote(project: Path, train: str | None) -> None:
    """Promote the latest version of each model with a policy through its gates."""
    _run(True, project, train)


@click.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--model", default="my-model", show_default=True, help="Model name.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def init(folder: Path, model: str, force: bool) -> None:
    """Scaffold a kiln project: kiln.yaml, train.py, a policy and CI workflows."""
    from kiln.governance.scaffold import scaffold

    for path in scaffold(folder, model, overwrite=force):
        click.echo(f"created {path}")
    click.echo("next: python train.py && kiln ci check")
