"""``kiln data``: version files and folders, get them back, diff and validate versions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kiln.cli._output import emit, emit_json, emit_table, fmt_time, json_option
from kiln.cli._ws import workspace

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from kiln.data.snapshot import ForkedSnapshot


class _Bar:
    """Adapts a rich progress bar to :class:`kiln.data.snapshot.Progress`."""

    def __init__(self, progress: Progress, label: str) -> None:
        self.progress = progress
        self.task: TaskID = progress.add_task(label, total=None)

    def start(self, total: int) -> None:
        self.progress.update(self.task, total=total, completed=0)

    def advance(self, n: int) -> None:
        self.progress.advance(self.task, n)


class _NoBar:
    def start(self, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


@contextmanager
def _progress(label: str) -> Iterator[_Bar | _NoBar]:
    if not sys.stderr.isatty():  # nothing to draw on: skip importing rich at all
        yield _NoBar()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=not console.is_terminal) as progress:
        yield _Bar(progress, label)


def _files_only(settings: Any = None) -> tuple[Any, Any]:
    """The artifact store and stat cache alone: pull and status need no metadata store
    (and skip its import and connection)."""
    from kiln.artifacts import open_artifact_store
    from kiln.data.statcache import StatCache
    from kiln.settings import Settings

    settings = settings or Settings.load()
    return (open_artifact_store(settings.artifacts_url),
            StatCache(settings.home / "cache" / "stat"))


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


@click.group()
def data() -> None:
    """Data versions (add, pull, get, versions, diff, status) and validation."""


@data.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", "-n", help="Dataset name (default: the file or folder name).")
@click.option("--message", "-m", default="", help="A description of this version.")
@json_option
def add(path: Path, name: str | None, message: str, as_json: bool) -> None:
    """Snapshot PATH (a file or a folder) as a new version and write PATH.kiln."""
    forked = _snapshot_in_child(path)
    ws = workspace()
    before = _latest(ws, name or path.resolve().name)
    with _progress(f"adding {path}") as bar:
        snap = forked.result() if forked is not None else None
        dv = ws.add_dataset(path, name, description=message, progress=bar, snapshot=snap)
    if as_json:
        emit_json({**dv.to_dict(), "new": before != dv.version})
        return
    state = "unchanged, still" if before == dv.version else "added"
    rows = f", {dv.rows} rows" if dv.rows is not None else ""
    click.echo(f"{state} {dv.ref}: {dv.file_count} files, {_size(dv.size)}{rows}; "
               f"pointer {path}.kiln (commit it to git)")


def _snapshot_in_child(path: Path) -> ForkedSnapshot | None:
    """For a re-add (a folder the stat cache knows, into a local artifact store), the
    snapshot in a child process while this one opens the metadata store
    (:class:`kiln.data.snapshot.ForkedSnapshot`); ``None`` for the in-process path."""
    from kiln.settings import Settings

    settings = Settings.load()
    if settings.server or not path.is_dir():
        return None
    artifacts, cache = _files_only(settings)
    from kiln.artifacts.local import LocalArtifactStore

    if not isinstance(artifacts, LocalArtifactStore) or not cache.knows(path.resolve()):
        return None  # a first add (in-process, with its progress bar), or a remote store
    from kiln.data.snapshot import ForkedSnapshot

    return ForkedSnapshot.start(lambda: artifacts, path, cache)


def _latest(ws: Any, name: str) -> int | None:
    from kiln.exceptions import KilnError

    try:
        return int(ws.dataset_version(name).version)
    except KilnError:
        return None


@data.command("pull")
@click.argument("pointers", nargs=-1, type=click.Path(path_type=Path))
def pull(pointers: tuple[Path, ...]) -> None:
    """Restore the data named by pointer files (default: every *.kiln under the current
    folder)."""
    from kiln.data.pointer import find_pointers

    found = list(pointers) or find_pointers(Path("."))
    if not found:
        click.echo("no pointer files (*.kiln) here; `kiln data add PATH` writes one")
        return
    from kiln.data.client import pull_pointer

    artifacts, cache = _files_only()
    for pointer in found:
        with _progress(f"pulling {pointer}") as bar:
            done = pull_pointer(artifacts, cache, pointer, progress=bar)
        _removed(done.removed)
        click.echo(f"{pointer}: {done.written} files written, {len(done.removed)} removed")


def _removed(rels: list[str], limit: int = 50) -> None:
    for rel in rels[:limit]:
        click.echo(f"  removed {rel}")
    if len(rels) > limit:
        click.echo(f"  ... and {len(rels) - limit} more removed")


@data.command("get")
@click.argument("ref")
@click.option("-o", "--output", "dest", type=click.Path(path_type=Path),
              help="Folder to write into (default: the current folder for a file, ./NAME for "
                   "a folder). A folder version makes it match exactly: other files in it are "
                   "removed (only from a folder kiln wrote before).")
def get(ref: str, dest: Path | None) -> None:
    """Fetch version REF (NAME, NAME@3 or NAME@latest) into a folder."""
    ws = workspace()
    dv = ws.dataset_version(ref)
    if dest is None:
        dest = Path(dv.name) if dv.kind == "directory" else Path(".")
    with _progress(f"getting {ref}") as bar:
        out, done = ws.restore_dataset(dv, dest, progress=bar)
    _removed(done.removed)
    click.echo(str(out))


@data.command("versions")
@click.argument("name")
@json_option
def versions(name: str, as_json: bool) -> None:
    """List the versions of dataset NAME."""
    rows = [{**v.to_dict(), "created": fmt_time(v.created_at), "size": v.size}
            for v in workspace().dataset_versions(name)]
    if as_json:
        for r in rows:
            r.pop("created")
        emit_json(rows)
        return
    table = [{**r, "files": r["file_count"], "tree": r["tree"][:12],
              "git_commit": (r["git_commit"] or "")[:10]} for r in rows]
    emit(table, ["version", "created", "user", "files", "size", "rows", "git_commit", "tree",
                 "description"], False, title=f"Versions of {name}")


@data.command("list")
@json_option
def list_datasets(as_json: bool) -> None:
    """List dataset names and their latest version."""
    ws = workspace()
    rows = []
    for name in ws.datasets():
        dv = ws.dataset_version(name)
        rows.append({"name": name, "latest": dv.version, "files": dv.file_count,
                     "size": dv.size, "created": fmt_time(dv.created_at)})
    emit(rows, ["name", "latest", "files", "size", "created"], as_json, title="Datasets")


@data.command("diff")
@click.argument("a")
@click.argument("b")
@json_option
def diff(a: str, b: str, as_json: bool) -> None:
    """What changed from version A to version B (e.g. NAME@1 NAME@2)."""
    d = workspace().diff_datasets(a, b)
    if as_json:
        emit_json(d.to_dict())
        return
    if d.identical:
        click.echo(f"{d.a} and {d.b} have the same content")
    else:
        click.echo(f"{d.a} -> {d.b}: {len(d.added)} added, {len(d.removed)} removed, "
                   f"{len(d.changed)} changed files")
        for label, items in (("+", d.added), ("-", d.removed), ("~", d.changed)):
            for item in items[:50]:
                click.echo(f"  {label} {item}")
            if len(items) > 50:
                click.echo(f"  {label} ... and {len(items) - 50} more")
    if d.rows != (None, None):
        click.echo(f"rows: {d.rows[0]} -> {d.rows[1]}")
    for c in d.columns_added:
        click.echo(f"column added: {c}")
    for c in d.columns_removed:
        click.echo(f"column removed: {c}")
    for c, (ta, tb) in d.type_changes.items():
        click.echo(f"column {c}: type {ta} -> {tb}")
    if d.stat_changes:
        emit_table(d.stat_changes, ["column", "stat", "a", "b"], title="Column statistics")


@data.command("status")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@json_option
def status(paths: tuple[Path, ...], as_json: bool) -> None:
    """Compare data paths with the versions their pointer files name (default: every
    *.kiln under the current folder). Only files whose size, mtime or inode changed are
    re-hashed."""
    from kiln.data.client import pointer_status
    from kiln.data.pointer import find_pointers

    targets = list(paths) or find_pointers(Path("."))
    artifacts, cache = _files_only()
    results = []
    for target in targets:
        with _progress(f"checking {target}") as bar:
            results.append(pointer_status(artifacts, cache, target, progress=bar))
    if as_json:
        emit_json([r.to_dict() for r in results])
        return
    if not results:
        click.echo("no pointer files (*.kiln) here")
    for r in results:
        if r.clean:
            click.echo(f"{r.pointer.path}: up to date with {r.pointer.ref}")
            continue
        click.echo(f"{r.pointer.path}: changed since {r.pointer.ref} "
                   f"({len(r.added)} added, {len(r.removed)} removed, "
                   f"{len(r.modified)} modified)")
        for label, items in (("+", r.added), ("-", r.removed), ("~", r.modified)):
            for item in items[:20]:
                click.echo(f"  {label} {item}")


@data.command("schema")
@click.argument("ref")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the YAML here.")
def schema(ref: str, output: Path | None) -> None:
    """Print the schema stored with version REF as editable YAML (inferred if none)."""
    from kiln.data.schema import Schema, infer_schema

    ws = workspace()
    dv = ws.dataset_version(ref)
    s = (Schema.from_dict(dv.schema, f"schema of {dv.ref}") if dv.schema
         else infer_schema(ws.dataset_frame(dv)))
    text = s.to_yaml()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(str(output))


@data.command("validate")
@click.argument("ref")
@click.option("--against", help="Reference version for drift (and schema, if none given).")
@click.option("--schema", "schema_file", type=click.Path(path_type=Path),
              help="A schema YAML file (see `kiln data schema`).")
@click.option("--html", "html_path", type=click.Path(path_type=Path),
              help="Where to write the HTML report (default: validation-NAME-V.html).")
@click.option("--no-html", is_flag=True, help="Do not write the HTML report.")
@json_option
def validate(ref: str, against: str | None, schema_file: Path | None, html_path: Path | None,
             no_html: bool, as_json: bool) -> None:
    """Validate version REF against a schema and a reference version; exit 1 on any
    error-level anomaly."""
    from kiln.data.api import _as_schema
    from kiln.data.report import render_html
    from kiln.data.schema import Schema
    from kiln.data.validation import validate as run_validation
    from kiln.exceptions import InvalidArgumentError

    ws = workspace()
    dv = ws.dataset_version(ref)
    current = ws.dataset_frame(dv)
    reference = None
    schema_obj = _as_schema(schema_file) if schema_file else None
    if against:
        rv = ws.dataset_version(against)
        reference = ws.dataset_frame(rv)
        if schema_obj is None and rv.schema:
            schema_obj = Schema.from_dict(rv.schema, f"schema of {rv.ref}")
    if schema_obj is None and reference is None:
        raise InvalidArgumentError(
            f"nothing to validate {dv.ref} against; give --against NAME@VERSION or --schema FILE"
        )
    report = run_validation(current, schema_obj, reference=reference)
    ws.record_validation(dv, report, ws.dataset_version(against).ref if against else None)
    title = f"{dv.ref}" + (f" against {against}" if against else "")
    written = None
    if not no_html:
        written = html_path or Path(f"validation-{dv.name.replace('/', '_')}-{dv.version}.html")
        written.write_text(render_html(report, current, reference, title=f"Validation of {title}"))
    if as_json:
        emit_json({**report.to_dict(), "ref": dv.ref, "against": against,
                   "html": str(written) if written else None})
    else:
        rows = [{**a.to_dict(), "observed": _short(a.observed), "expected": _short(a.expected)}
                for a in report.anomalies]
        if rows:
            emit_table(rows, ["severity", "kind", "column", "observed", "expected", "message"],
                       title=f"Validation of {title}")
        verdict = "passed" if report.ok else "FAILED"
        click.echo(f"{verdict}: {len(report.errors)} errors, {len(report.warnings)} warnings "
                   f"({report.rows} rows x {report.columns} columns)"
                   + (f"; report {written}" if written else ""))
    if not report.ok:
        sys.exit(1)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
