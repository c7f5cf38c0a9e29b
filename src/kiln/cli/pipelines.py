"""``kiln pipeline`` (run, runs, show, resume, export), ``kiln step run`` and ``kiln scheduler``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiln.cli._output import emit, emit_json, fmt_time, json_option
from kiln.cli._ws import workspace
from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.entities import Run
    from kiln.pipelines.runner import PipelineRun, StepRecord

param_option = click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
                            help="A pipeline parameter (VALUE is read as YAML: 10, 0.5, "
                                 "text, [1, 2]).")
executor_option = click.option("--executor", "-x", default=None,
                               help="local (default), process, ray or ray://HOST:PORT.")


def parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    """``("C=10", "name=x")`` -> ``{"C": 10, "name": "x"}``."""
    import yaml

    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidArgumentError(f"parameter {item!r} is not accepted; use KEY=VALUE")
        try:
            params[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            params[key.strip()] = raw
    return params


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[str, StepRecord], None]]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        def quiet(kind: str, record: StepRecord) -> None:
            return None
        yield quiet
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("steps", total=total)

        def on_event(kind: str, record: StepRecord) -> None:
            if kind == "started":
                progress.update(task, description=f"running {record.node_id}")
            else:
                progress.advance(task)
        yield on_event


def _summary(result: PipelineRun) -> str:
    ran, cached = len(result.executed_steps), len(result.cached_steps)
    failed = [n for n, s in result.steps.items() if s.status == "FAILED"]
    skipped = [n for n, s in result.steps.items() if s.status == "SKIPPED"]
    parts = [f"{ran} ran", f"{cached} from the cache"]
    if failed:
        parts.append(f"{len(failed)} failed ({', '.join(failed)})")
    if skipped:
        parts.append(f"{len(skipped)} skipped")
    return (f"pipeline run {result.run_id}: {result.status.value}, {len(result.steps)} steps "
            f"({', '.join(parts)})")


def _report(result: PipelineRun, as_json: bool) -> None:
    if as_json:
        emit_json({"run_id": result.run_id, "pipeline": result.pipeline,
                   "status": result.status.value, "error": result.error,
                   "steps": {n: {"run_id": s.run_id, "status": s.status, "cached": s.cached,
                                 "duration_ms": s.duration_ms, "error": s.error}
                             for n, s in result.steps.items()}})
    else:
        click.echo(_summary(result))
        if result.error:
            click.echo(f"error: {result.error}", err=True)
    if not result.ok:
        sys.exit(1)


@click.group()
def pipeline() -> None:
    """Pipelines: run, list runs, show, resume, export."""


@pipeline.command("run")
@click.argument("ref")
@param_option
@executor_option
@click.option("--no-cache", is_flag=True, help="Run every step, ignoring the cache.")
@json_option
def run_cmd(ref: str, params: tuple[str, ...], executor: str | None, no_cache: bool,
            as_json: bool) -> None:
    """Run the pipeline REF (MODULE:FUNCTION or FILE.py:FUNCTION)."""
    from kiln.pipelines.loader import load_pipeline
    from kiln.pipelines.runner import run_pipeline

    pipe = load_pipeline(ref)
    values = parse_params(params)
    total = len(pipe.build(**values).nodes)
    with _progress(total, not as_json) as on_event:
        result = run_pipeline(pipe, values, executor=executor or "local",
                              cache=False if no_cache else None, workspace=workspace(),
                              on_event=on_event)
    _report(result, as_json)


@pipeline.command("resume")
@click.argument("run_id")
@executor_option
@json_option
def resume_cmd(run_id: str, executor: str | None, as_json: bool) -> None:
    """Continue a failed pipeline run: finished steps are reused, the rest run."""
    from kiln.pipelines.runner import resume

    with _progress(0, False) as on_event:
        result = resume(run_id, executor=executor, workspace=workspace(), on_event=on_event)
    _report(result, as_json)


@pipeline.command("runs")
@click.option("--pipeline", "name", default=None, help="Only runs of this pipeline.")
@click.option("--max-results", "-n", default=50, show_default=True, type=int)
@json_option
def runs_cmd(name: str | None, max_results: int, as_json: bool) -> None:
    """List pipeline runs, newest first."""
    flt = "tags.`kiln.type` = 'pipeline'"
    if name:
        flt += f" and tags.`kiln.pipeline` = '{name}'"
    found = workspace().search_run_objects(None, flt, ["start_time DESC"], max_results)
    rows = [{"run_id": r.run_id, "pipeline": r.tags.get("kiln.pipeline", r.name),
             "status": r.status.value, "start_time": fmt_time(r.start_time),
             "duration_s": _duration(r), "executor": r.tags.get("kiln.executor", "")}
            for r in found]
    emit(rows, ["run_id", "pipeline", "status", "start_time", "duration_s", "executor"],
         as_json, title="Pipeline runs")


def _duration(run: Run) -> float | None:
    return round((run.end_time - run.start_time) / 1000, 3) if run.end_time else None


@pipeline.command("show")
@click.argument("run_id")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the graph as an HTML picture to this file.")
@json_option
def show_cmd(run_id: str, html_path: Path | None, as_json: bool) -> None:
    """Show a pipeline run as a tree of its steps, with status and duration."""
    from kiln.pipelines.report import render_html, render_tree, run_graph

    ws = workspace()
    run = ws.get_run(run_id)
    graph = run_graph(ws, run)
    if as_json:
        emit_json(graph)
    else:
        from rich.console import Console

        Console().print(render_tree(graph))
    if html_path is not None:
        html_path.write_text(render_html(graph))
        if not as_json:
            click.echo(f"wrote {html_path}")


@pipeline.command("export")
@click.argument("ref")
@click.option("--to", "target", default="airflow", show_default=True,
              type=click.Choice(["airflow"]))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: print).")
@param_option
def export_cmd(ref: str, target: str, output: Path | None, params: tuple[str, ...]) -> None:
    """Export the pipeline REF for another orchestrator (an Airflow DAG file)."""
    from kiln.pipelines.export import export
    from kiln.pipelines.loader import load_pipeline

    text = export(load_pipeline(ref), target, parse_params(params))
    if output is None:
        click.echo(text)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}")


@click.group("step")
def step_group() -> None:
    """Run one step of a pipeline (what exported DAG tasks call)."""


@step_group.command("run")
@click.argument("ref")
@click.argument("step_id")
@param_option
@executor_option
@json_option
def step_run_cmd(ref: str, step_id: str, params: tuple[str, ...], executor: str | None,
                 as_json: bool) -> None:
    """Run step STEP_ID of pipeline REF; the steps it needs come from the cache (or run)."""
    from kiln.pipelines.loader import load_pipeline
    from kiln.pipelines.runner import run_pipeline

    result = run_pipeline(load_pipeline(ref), parse_params(params),
                          executor=executor or "local", workspace=workspace(),
                          only=[step_id], tags={"kiln.step_run": step_id})
    _report(result, as_json)


@click.command("scheduler")
@click.option("--module", "-m", "modules", multiple=True,
              help="Import this module and register the triggers of its pipelines.")
@click.option("--interval", default=5.0, show_default=True, type=float,
              help="Seconds between checks of the triggers.")
@click.option("--missed", type=click.Choice(["catch_up", "skip"]), default="catch_up",
              show_default=True, help="Schedules missed while down: run once, or skip.")
@click.option("--once", is_flag=True, help="Check the triggers once and exit.")
def scheduler_cmd(modules: tuple[str, ...], interval: float, missed: str, once: bool) -> None:
    """Fire due triggers until stopped (SIGTERM or Ctrl-C stop it cleanly)."""
    from kiln.pipelines.scheduler import Scheduler

    sched = Scheduler(workspace(), modules=list(modules), interval=interval, missed=missed)
    if once:
        fired = sched.tick()
        click.echo(f"fired {len(fired)} trigger(s)")
        return
    click.echo(f"scheduler {sched.owner} watching {len(sched.triggers())} trigger(s); "
               "stop with SIGTERM or Ctrl-C", err=True)
    sched.serve()
    click.echo("scheduler stopped", err=True)
