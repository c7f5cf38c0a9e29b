"""The ``kiln`` command: subcommands are loaded lazily; errors become one line and exit 2."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from kiln import __version__

SUBCOMMANDS = {
    "runs": ("kiln.cli.runs", "runs", "Tracked runs: list, show, compare."),
    "experiments": ("kiln.cli.runs", "experiments", "Experiments: list."),
    "models": ("kiln.cli.models", "models", "Registered models, versions and aliases."),
    "artifacts": ("kiln.cli.artifacts", "artifacts", "Fetch logged artifacts."),
    "data": ("kiln.cli.data", "data", "Data versions and data validation."),
    "features": ("kiln.cli.features", "features", "Feature views: apply, materialize, serve."),
    "deploy": ("kiln.cli.deploy", "deploy", "Deployments: routes, weights, shadows, history."),
    "serve": ("kiln.cli.serve", "serve", "Serve a deployment over HTTP."),
    "predict": ("kiln.cli.predict", "predict", "Batch inference over a Parquet file."),
    "demo": ("kiln.cli.demo", "demo", "Run the whole lifecycle on a real dataset."),
    "lineage": ("kiln.cli.lineage", "lineage", "What an object was made from and what used it."),
    "pipeline": ("kiln.cli.pipelines", "pipeline", "Pipelines: run, runs, show, resume, export."),
    "step": ("kiln.cli.pipelines", "step_group", "Run one step of a pipeline."),
    "scheduler": ("kiln.cli.pipelines", "scheduler_cmd", "Fire pipeline triggers until stopped."),
    "audit": ("kiln.cli.audit", "audit", "The tamper-evident audit log: show, verify."),
    "ci": ("kiln.cli.ci", "ci", "Run the project's gates in CI; promote after a merge."),
    "init": ("kiln.cli.ci", "init", "Scaffold a kiln project with a policy and CI files."),
    "privacy": ("kiln.cli.privacy", "privacy", "Data subject requests: forget a key."),
    "roles": ("kiln.cli.roles", "roles", "Your role; named roles granted for approvals."),
    "server": ("kiln.cli.server", "server", "Serve the REST API and the web UI."),
    "ui": ("kiln.cli.server", "ui", "Open the web UI on this machine (kiln server on loopback)."),
    "sweep": ("kiln.cli.sweep", "sweep", "Hyperparameter sweeps: run, resume, show."),
    "users": ("kiln.cli.users", "users", "Users of kiln server: create, list."),
    "tokens": ("kiln.cli.users", "tokens", "API tokens of kiln server: create, list, revoke."),
    "monitor": ("kiln.cli.monitor", "monitor", "Monitors: drift, quality, performance, A/B."),
    "alert": ("kiln.cli.monitor", "alert", "Alert rules on monitor figures, and fired alerts."),
}


class LazyGroup(click.Group):
    """Imports a subcommand's module only when it runs (keeps ``kiln --help`` fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = SUBCOMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attr, _ = entry
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUBCOMMANDS[name][2]) for name in sorted(SUBCOMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="kiln")
def cli() -> None:
    """kiln: data, pipelines, tracking, registry, serving and monitoring in one tool.

    Settings come from KILN_HOME (default ./.kiln), KILN_DB_URL and
    KILN_ARTIFACTS_URL (or KILN_SERVER and KILN_TOKEN to use a kiln server),
    then kiln.yaml, then defaults.
    """


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``kiln`` console script."""
    from kiln.exceptions import KilnError

    try:
        return cli.main(args=argv, prog_name="kiln", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code in (1, 2) else exc.exit_code)
    except KilnError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
