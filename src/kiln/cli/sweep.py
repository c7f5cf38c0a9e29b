"""``kiln sweep``: run, resume and show hyperparameter sweeps.

``kiln sweep MODULE:train --space space.yaml ...`` is short for ``kiln sweep run ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiln.cli._output import emit, emit_json, emit_table, json_option
from kiln.cli._ws import workspace

if TYPE_CHECKING:
    from kiln.sweeps import Sweep


class _SweepGroup(click.Group):
    """A group whose first argument may be a train function instead of a subcommand."""

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


@click.group(cls=_SweepGroup)
def sweep() -> None:
    """Hyperparameter sweeps: kiln sweep MODULE:train --space space.yaml --trials 50.

    Each trial is a child run of the sweep's run; the Optuna study is kept in kiln's
    database, so an interrupted sweep resumes (run the same command again, or
    `kiln sweep resume NAME`).
    """


_EXECUTOR = click.option("--executor", type=click.Choice(["process", "ray", "local"]),
                         help="Where trials run: a local process pool, Ray, or this process.")
_JOBS = click.option("--jobs", "-j", "n_jobs", type=click.IntRange(min=1),
                     help="Trials at once (default: the CPU count).")


@sweep.command("run")
@click.argument("target")
@click.option("--space", "space", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The search space (YAML); see `kiln.sweeps.space` for the format.")
@click.option("--trials", type=click.IntRange(min=1), default=20, show_default=True,
              help="Trials to end with (complete, pruned or failed).")
@_EXECUTOR
@click.option("--name", help="The sweep's name (default: the train function's name).")
@click.option("--sampler", type=click.Choice(["tpe", "random", "grid"]), default="tpe",
              show_default=True)
@click.option("--pruner", type=click.Choice(["median", "asha", "none"]), default="median",
              show_default=True)
@click.option("--direction", type=click.Choice(["minimize", "maximize"]), default="minimize",
              show_default=True)
@click.option("--metric", default="loss", show_default=True,
              help="The metric to optimize: returned by train or logged with kiln.log_metric.")
@click.option("--experiment", help="Experiment of the runs (default: the sweep's name).")
@click.option("--seed", type=int, help="Seed of the sampler.")
@click.option("--heartbeat", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True,
              help="Seconds between heartbeats of running trials; a trial silent for twice "
                   "as long is failed and run again when the sweep resumes.")
@_JOBS
@json_option
def run_cmd(target: str, space: Path, trials: int, executor: str | None, name: str | None,
            sampler: str, pruner: str, direction: str, metric: str, experiment: str | None,
            seed: int | None, heartbeat: float, n_jobs: int | None, as_json: bool) -> None:
    """Run the sweep of TARGET (MODULE:FUNCTION or FILE.py:FUNCTION) until --trials ended.

    The function takes the trial's parameters as a dict and returns the metric (or logs
    it with kiln.log_metric; points logged with step= feed the pruner).
    """
    from kiln.sweeps import load_train_fn
    from kiln.sweeps import sweep as run_sweep

    fn = load_train_fn(target)
    with _progress(not as_json) as on_trial:
        result = run_sweep(fn, space, trials, executor or "process", name=name or
                           target.rpartition(":")[2], metric=metric, direction=direction,
                           sampler=sampler, pruner=pruner, n_jobs=n_jobs,
                           experiment=experiment, seed=seed, heartbeat=heartbeat,
                           target=target, workspace=workspace(), on_trial=on_trial)
    _report(result, as_json)


@sweep.command("resume")
@click.argument("name")
@click.option("--trials", type=click.IntRange(min=1),
              help="Trials to end with (default: the count asked last time).")
@_EXECUTOR
@_JOBS
@json_option
def resume_cmd(name: str, trials: int | None, executor: str | None, n_jobs: int | None,
               as_json: bool) -> None:
    """Continue the sweep NAME with its stored settings."""
    from kiln.sweeps import resume

    with _progress(not as_json) as on_trial:
        result = resume(name, trials, executor, n_jobs=n_jobs, workspace=workspace(),
                        on_trial=on_trial)
    _report(result, as_json)


@sweep.command("show")
@click.argument("name")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write parallel coordinates and optimization history to this file.")
@click.option("--trials", "show_trials", is_flag=True, help="List every trial too.")
@json_option
def show_cmd(name: str, html_path: Path | None, show_trials: bool, as_json: bool) -> None:
    """The best trial, counts by state and parameter importance of the sweep NAME."""
    from kiln.sweeps import Sweep

    result = Sweep(name, workspace())
    if html_path is not None:
        result.write_html(html_path)
    _report(result, as_json, show_trials)
    if html_path is not None and not as_json:
        click.echo(f"wrote {html_path}")


@sweep.command("list")
@json_option
def list_cmd(as_json: bool) -> None:
    """Every sweep with its trial counts and best value."""
    from kiln.sweeps import Sweep
    from kiln.sweeps.report import list_sweeps

    ws = workspace()
    rows = []
    for name in list_sweeps(ws):
        s = Sweep(name, ws)
        counts = s.counts()
        rows.append({"name": name, "metric": s.config.get("metric"), "best": s.best_value,
                     "complete": counts["COMPLETE"], "pruned": counts["PRUNED"],
                     "failed": counts["FAIL"], "running": counts["RUNNING"]})
    emit(rows, ["name", "metric", "best", "complete", "pruned", "failed", "running"],
         as_json, title="Sweeps")


def _report(result: Sweep, as_json: bool, show_trials: bool = False) -> None:
    summary = result.summary()
    if as_json:
        emit_json(summary)
        return
    counts = summary["counts"]
    click.echo(f"sweep {summary['name']}: {summary['direction']} {summary['metric']}; "
               + ", ".join(f"{v} {k.lower()}" for k, v in counts.items() if v))
    best = summary["best"]
    if best is None:
        click.echo("no trial has completed yet")
    else:
        rows: list[dict[str, Any]] = [
            {"": "trial", "best": best["trial"]}, {"": summary["metric"], "best": best["value"]},
            {"": "run", "best": best["run_id"]},
            *({"": f"param {k}", "best": v} for k, v in best["params"].items()),
        ]
        emit_table(rows, ["", "best"], title="Best trial")
    if summary["importance"]:
        emit_table([{"parameter": k, "importance": v} for k, v in
                    summary["importance"].items()], ["parameter", "importance"],
                   title="Parameter importance")
    if show_trials:
        emit_table([{**t, "params": ", ".join(f"{k}={v}" for k, v in t["params"].items())}
                    for t in summary["trials"]],
                   ["trial", "state", "value", "last_step", "params", "run_id"], title="Trials")


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    with Progress(TextColumn("trials"), BarColumn(), MofNCompleteColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("trials", total=None)

        def on_trial(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
        yield on_trial
