"""``kiln artifacts``: fetch what runs logged."""

from __future__ import annotations

from pathlib import Path

import click

from kiln.cli._output import emit, json_option
from kiln.cli._ws import workspace


@click.group()
def artifacts() -> None:
    """Fetch logged artifacts (hashes verified)."""


@artifacts.command("list")
@click.argument("run_id")
@json_option
def list_artifacts(run_id: str, as_json: bool) -> None:
    """List the artifacts of a run."""
    rows = [{"path": a.path, "size": a.size, "sha256": a.sha256}
            for a in workspace().list_artifacts(run_id)]
    emit(rows, ["path", "size", "sha256"], as_json, title="Artifacts")


@artifacts.command("get")
@click.argument("ref")
@click.argument("path", required=False)
@click.option("-o", "--output", "dest", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="Folder (or file, for a sha256) to write to.")
def get_artifact(ref: str, path: str | None, dest: Path) -> None:
    """Fetch artifact PATH of run REF, or the object REF=sha256:<hex> itself."""
    ws = workspace()
    if ref.startswith("sha256:") or (path is None and len(ref) == 64):
        target = dest / ref.removeprefix("sha256:") if dest.is_dir() else dest
        ws.artifacts.get_file(ref, target)
        click.echo(str(target))
        return
    if path is None:
        raise click.UsageError("give the artifact PATH after the run id (see `kiln artifacts "
                               "list RUN_ID`), or a sha256:<hex> id")
    click.echo(str(ws.download_artifact(ref, path, dest)))
