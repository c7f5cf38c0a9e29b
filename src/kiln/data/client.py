"""Data versions on a Workspace: add, get, pull, status, load, diff, lineage."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.core import WorkspaceCore
from kiln.data.refs import check_name, parse_ref
from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

    from kiln.artifacts.base import ArtifactStore
    from kiln.data.compare import DataDiff
    from kiln.data.pointer import Pointer
    from kiln.data.snapshot import Progress, Restored, Snapshot
    from kiln.data.statcache import StatCache
    from kiln.data.validation import ValidationReport
    from kiln.entities import DatasetVersion
    from kiln.metadata.base import MetadataStore

LINEAGE_KIND = "dataset_version"
REPORT_KIND = "validation_report"


@dataclass
class DataStatus:
    """How a data path differs from the version its pointer file names."""

    pointer: Pointer
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.added or self.removed or self.modified)

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.pointer.path), "ref": self.pointer.ref, "clean": self.clean,
                "added": self.added, "removed": self.removed, "modified": self.modified}


class DataClient(WorkspaceCore):
    """The data-versions methods of :class:`kiln.Workspace`."""

    # -- versions ---------------------------------------------------------------------
    def add_dataset(self, path: str | os.PathLike[str], name: str | None = None, *,
                    description: str = "", pointer: bool = True,
                    progress: Progress | None = None,
                    snapshot: Snapshot | None = None) -> DatasetVersion:
        """Snapshot a file or directory as a new version of dataset ``name``
        (default: the path's name) and write its pointer file ``PATH.kiln``.

        Adding content equal to the latest version returns that version. ``snapshot``:
        one of ``path`` already stored in this workspace's artifact store (the CLI makes
        it in a child process while the metadata store opens).
        """
        from kiln.data.pointer import write_pointer
        from kiln.data.snapshot import store_snapshot
        from kiln.exceptions import NotFoundError

        src = Path(path)
        name = check_name(name or src.resolve().name)
        snap = snapshot or store_snapshot(self.artifacts, src, self.stat_cache, progress)
        try:
            latest: DatasetVersion | None = self.store.latest_dataset_version(name)
        except NotFoundError:
            latest = None
        if latest is not None and latest.tree == snap.tree:
            dv = latest
        else:
            rows, schema = self._describe(snap.kind, src)
            dv = self.store.create_dataset_version(
                name, tree=snap.tree, kind=snap.kind, size=snap.size,
                file_count=snap.file_count, rows=rows, schema=schema, user=self.user,
                created_at=now_ms(), git_commit=_git_commit(src), source=str(src),
                description=description,
            )
        if pointer:
            write_pointer(src, name=dv.name, version=dv.version, tree=dv.tree, kind=dv.kind,
                          size=dv.size, files=dv.file_count)
        return dv

    def _describe(self, kind: str, src: Path) -> tuple[int | None, dict[str, Any] | None]:
        from kiln.data.schema import infer_schema
        from kiln.data.tabular import is_tabular, read_table

        if kind != "file" or not is_tabular(src.name):
            return None, None
        df = read_table(src)
        return len(df), infer_schema(df).to_dict()

    def dataset_version(self, ref: str | DatasetVersion) -> DatasetVersion:
        """The version ``ref`` names: ``NAME``, ``NAME@3`` or ``NAME@latest``."""
        from kiln.entities import DatasetVersion

        if isinstance(ref, DatasetVersion):
            return ref
        name, version = parse_ref(ref)
        if version is None:
            return self.store.latest_dataset_version(name)
        return self.store.get_dataset_version(name, version)

    def dataset_versions(self, name: str) -> list[DatasetVersion]:
        """Every version of dataset ``name``, oldest first."""
        return self.store.list_dataset_versions(name)

    def datasets(self) -> list[str]:
        """The names of all datasets."""
        return self.store.list_datasets()

    # -- getting data back ------------------------------------------------------------
    def get_dataset(self, ref: str | DatasetVersion, dest: str | os.PathLike[str],
                    progress: Progress | None = None) -> Path:
        """Write version ``ref`` into folder ``dest`` (a file keeps its name); hashes verified.

        A directory version makes ``dest`` match it exactly: changed files are restored,
        missing ones added, and files the version does not hold are removed — only from a
        folder kiln wrote before; other files in a folder kiln never wrote are an error.
        """
        return self.restore_dataset(ref, dest, progress)[0]

    def restore_dataset(self, ref: str | DatasetVersion, dest: str | os.PathLike[str],
                        progress: Progress | None = None) -> tuple[Path, Restored]:
        """As :meth:`get_dataset`, also saying what was written and removed."""
        from kiln.data.snapshot import load_manifest, restore

        dv = self.dataset_version(ref)
        files = load_manifest(self.artifacts, dv.tree)
        out = Path(dest)
        directory = dv.kind == "directory"
        done = restore(self.artifacts, files, out, self.stat_cache, progress,
                       tree=dv.tree if directory else None, prune=directory, only_known=True)
        return (out if directory else out / next(iter(files))), done

    def pull(self, pointer: str | os.PathLike[str], progress: Progress | None = None
             ) -> Restored:
        """Make the data a pointer file names match its version (files written, and for a
        folder, files removed that the version does not hold)."""
        return pull_pointer(self.artifacts, self.stat_cache, pointer, progress)

    def data_status(self, path: str | os.PathLike[str],
                    progress: Progress | None = None) -> DataStatus:
        """Compare a data path with the version its pointer file names (re-hashing only
        files whose size, mtime or inode changed)."""
        return pointer_status(self.artifacts, self.stat_cache, path, progress)

    def load_dataset(self, ref: str | DatasetVersion) -> pd.DataFrame | Path:
        """A tabular single-file version as a DataFrame; anything else as a local path
        (a read-only copy cached under ``KILN_HOME/data``)."""
        from kiln.data.snapshot import load_manifest
        from kiln.data.tabular import is_tabular, read_table

        dv = self.dataset_version(ref)
        files = load_manifest(self.artifacts, dv.tree)
        if dv.kind == "file":
            fname, entry = next(iter(files.items()))
            if is_tabular(fname):
                return read_table(io.BytesIO(self.artifacts.get_bytes(entry["sha256"])), fname)
        target = self.settings.home / "data" / dv.tree[:16]
        return self.get_dataset(dv, target)

    def dataset_frame(self, ref: str | DatasetVersion) -> pd.DataFrame:
        """Version ``ref`` as a DataFrame; an error if it is not one tabular file."""
        data = self.load_dataset(ref)
        if isinstance(data, Path):
            dv = self.dataset_version(ref)
            raise InvalidArgumentError(
                f"dataset {dv.ref} is a {dv.kind} that is not a table; accepted: one "
                "Parquet, CSV or JSON lines file"
            )
        return data

    def diff_datasets(self, a: str | DatasetVersion, b: str | DatasetVersion) -> DataDiff:
        """Files added, removed and changed from ``a`` to ``b``; for tables, schema,
        row-count and per-column statistics changes."""
        from kiln.data.compare import diff_versions
        from kiln.data.snapshot import load_manifest

        va, vb = self.dataset_version(a), self.dataset_version(b)
        return diff_versions(va, vb, load_manifest(self.artifacts, va.tree),
                             load_manifest(self.artifacts, vb.tree))

    # -- validation reports -------------------------------------------------------------
    def record_validation(self, dataset: str | DatasetVersion, report: ValidationReport,
                          against: str | None = None) -> str:
        """Keep ``report`` (of ``dataset``, against reference ``against``) in the artifact
        store, linked to the version (edge dataset_version → validation_report); returns
        the report's id. The web UI lists them per version."""
        import json

        from kiln.entities import LineageEdge

        dv = self.dataset_version(dataset)
        at = now_ms()
        body = {**report.to_dict(), "ref": dv.ref, "against": against, "user": self.user,
                "at": at}
        sha = self.artifacts.put_bytes(json.dumps(body, default=_plain).encode()).sha256
        self.store.add_edges([LineageEdge(LINEAGE_KIND, dv.ref, REPORT_KIND, sha, "validated",
                                          at)])
        return sha

    # -- lineage ----------------------------------------------------------------------
    def log_input(self, run_id: str, dataset: str | DatasetVersion) -> DatasetVersion:
        """Record that run ``run_id`` read ``dataset`` (edge dataset_version → run)."""
        from kiln.entities import LineageEdge

        dv = self.dataset_version(dataset)
        self.store.get_run(run_id)
        self.store.add_edges([LineageEdge(LINEAGE_KIND, dv.ref, "run", run_id, "input",
                                          now_ms())])
        return dv

    @property
    def stat_cache(self) -> StatCache:
        """The local hash cache (``KILN_HOME/cache/stat``)."""
        from kiln.data.statcache import StatCache

        return StatCache(self.settings.home / "cache" / "stat")


def pull_pointer(artifacts: ArtifactStore, stat_cache: StatCache,
                 pointer: str | os.PathLike[str], progress: Progress | None = None
                 ) -> Restored:
    """Restore what ``pointer`` names from ``artifacts`` (no metadata store needed); a
    folder ends up holding exactly the version (files it does not name are removed)."""
    from kiln.data.pointer import read_pointer
    from kiln.data.snapshot import load_manifest, restore

    p = read_pointer(Path(pointer))
    files = load_manifest(artifacts, p.tree)
    if p.kind == "file":
        if len(files) != 1:
            raise InvalidArgumentError(f"pointer {p.ref} names a file but its tree has "
                                       f"{len(files)} entries")
        entry = next(iter(files.values()))
        return restore(artifacts, {p.path.name: entry}, p.path.parent, stat_cache, progress)
    return restore(artifacts, files, p.path, stat_cache, progress, tree=p.tree, prune=True)


def pointer_status(artifacts: ArtifactStore, stat_cache: StatCache,
                   path: str | os.PathLike[str], progress: Progress | None = None
                   ) -> DataStatus:
    """How ``path`` differs from the version its pointer names (no metadata store needed)."""
    from kiln.data.pointer import read_pointer
    from kiln.data.snapshot import hashes, load_manifest, scan

    p = read_pointer(Path(path))
    status = DataStatus(p)
    if not p.path.exists():
        status.removed = sorted(load_manifest(artifacts, p.tree))
        return status
    kind, base, local = scan(p.path)
    root = p.path.resolve()
    cache = stat_cache.load(root)
    hexes, hashed = hashes(local, base, cache, progress)
    if kind == "directory" and cache.tree is not None and cache.tree == p.tree:
        return status  # every file matches the entries that made this very tree
    files = load_manifest(artifacts, p.tree)
    current = dict(zip(local.rels, hexes, strict=True))
    if kind == "file":
        expected = next(iter(files.values()))["sha256"]
        if hexes[0] != expected:
            status.modified = [local.rels[0]]
    else:
        for rel, sha in current.items():
            entry = files.get(rel)
            if entry is None:
                status.added.append(rel)
            elif entry["sha256"] != sha:
                status.modified.append(rel)
        status.added.sort()
        status.modified.sort()
        status.removed = sorted(set(files) - set(current))
        if status.clean:
            cache.tree = p.tree
    if hashed or status.clean:
        stat_cache.save(root, cache)
    return status


def validation_reports(store: MetadataStore, artifacts: ArtifactStore, ref: str
                       ) -> list[dict[str, Any]]:
    """The validation reports recorded for version ``ref`` (``NAME@N``), newest first."""
    import json

    edges = [e for e in store.edges_from(LINEAGE_KIND, ref) if e.dst_kind == REPORT_KIND]
    reports = []
    for e in reversed(edges):
        body = json.loads(artifacts.get_bytes(e.dst_id))
        reports.append({**body, "id": e.dst_id})
    return reports


def _plain(value: Any) -> Any:
    """JSON for numpy scalars and anything else a report may hold."""
    return value.item() if hasattr(value, "item") else str(value)


def local_paths(artifacts: ArtifactStore, stat_cache: StatCache, home: Path,
                dv: DatasetVersion) -> dict[str, str]:
    """``{rel: local path}`` of every file of ``dv``, for readers such as DuckDB: the
    objects themselves in a local artifact store, else a verified copy cached under
    ``home/data``."""
    from kiln.data.snapshot import load_manifest, local_object, restore

    files = load_manifest(artifacts, dv.tree)
    direct = {rel: local_object(artifacts, entry["sha256"]) for rel, entry in files.items()}
    if all(path is not None for path in direct.values()):
        return {rel: str(path) for rel, path in direct.items()}
    target = home / "data" / dv.tree[:16]
    restore(artifacts, files, target, stat_cache, tree=dv.tree, prune=True)
    return {rel: str(target / rel) for rel in files}


def _git_commit(path: Path) -> str | None:
    from kiln.tracking.environment import _git_state

    folder = path.resolve() if path.is_dir() else path.resolve().parent
    state = _git_state(str(folder))
    return state[0] if state else None
