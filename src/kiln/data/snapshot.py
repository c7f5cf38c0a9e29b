"""Snapshots of files and directories in the artifact store, file by file, in parallel.

Each file is stored once by content; a snapshot is a manifest (the
``kiln.artifacts.tree`` format) whose sha256 names the version's tree. Files
whose size and mtime match the stat cache are not read again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiln.artifacts.tree import MANIFEST_KIND, read_manifest
from kiln.data.statcache import FolderCache
from kiln.exceptions import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    from kiln.artifacts.base import ArtifactStore
    from kiln.data.statcache import StatCache



class Progress(Protocol):
    """Told how many files there are, then how many are done (a CLI progress bar)."""

    def start(self, total: int) -> None: ...
    def advance(self, n: int) -> None: ...


_BATCH = 512
_SMALL = 16 << 20  # files up to this size are read in one go
WORKERS = min(32, (os.cpu_count() or 2) * 4)  # file I/O releases the GIL


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file found under the snapshot's root."""

    rel: str
    path: str
    size: int
    mtime_ns: int


@dataclass
class Snapshot:
    """What was stored: the manifest's sha256 and the ``{rel: {"sha256", "size"}}`` table."""

    kind: str
    tree: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(int(e["size"]) for e in self.files.values())


def scan(path: Path) -> tuple[str, list[LocalFile]]:
    """``("file"|"directory", files)`` for ``path``; a missing path is named clearly."""
    path = Path(path)
    if path.is_file():
        st = path.stat()
        return "file", [LocalFile(path.name, str(path.resolve()), st.st_size, st.st_mtime_ns)]
    if not path.is_dir():
        raise NotFoundError(f"data path {str(path)!r} does not exist; give a file or a directory")
    root = path.resolve()
    files: list[LocalFile] = []
    _walk(str(root), "", files)
    files.sort(key=lambda f: f.rel)
    return "directory", files


def _walk(top: str, prefix: str, out: list[LocalFile]) -> None:
    with os.scandir(top) as it:
        for entry in it:
            if entry.is_dir():
                _walk(entry.path, f"{prefix}{entry.name}/", out)
            elif entry.is_file():
                st = entry.stat()
                out.append(LocalFile(prefix + entry.name, entry.path, st.st_size, st.st_mtime_ns))


def hashes(files: Sequence[LocalFile], cache: FolderCache, progress: Progress | None = None,
           store: ArtifactStore | None = None) -> tuple[dict[str, str], int]:
    """``({rel: sha256}, files hashed)``; files whose size and mtime match ``cache`` are
    not read. With ``store``, files not yet in it are stored too (read once). ``cache``
    is updated in place to describe exactly ``files``."""
    if progress is not None:
        progress.start(len(files))
    old = cache.entries
    result: dict[str, str] = {}
    todo: list[LocalFile] = []
    for f in files:
        hit = old.get(f.rel)
        if hit is not None and hit[0] == f.size and hit[1] == f.mtime_ns:
            result[f.rel] = hit[2]
        else:
            todo.append(f)
    if store is not None and result and cache.stored_in != store.url:
        # Cached hashes say nothing about this store (another store, a wiped folder).
        missing = _missing(store, result, files)
        todo.extend(missing)
        for f in missing:
            result.pop(f.rel, None)
    if progress is not None and len(files) > len(todo):
        progress.advance(len(files) - len(todo))
    for batch_result in _parallel(_hash_batch, todo, store, progress):
        for f, sha in batch_result:
            result[f.rel] = sha
    if todo or len(old) != len(files):
        cache.entries = {f.rel: (f.size, f.mtime_ns, result[f.rel]) for f in files}
        cache.tree = None
    if store is not None:
        cache.stored_in = store.url  # every entry's object is in it now
    elif todo:
        cache.stored_in = None  # fresh hashes of files that no store holds yet
    return result, len(todo)


def _missing(store: ArtifactStore, known: dict[str, str], files: Sequence[LocalFile]
             ) -> list[LocalFile]:
    by_rel = {f.rel: f for f in files}
    local_root = _local_root(store)
    if local_root is not None:
        return [by_rel[rel] for rel, sha in known.items()
                if not _has_object(local_root, sha, by_rel[rel].size)]
    return [by_rel[rel] for rel, sha in known.items() if not store.exists(sha)]


def local_object(store: ArtifactStore, sha: str) -> str | None:
    """The path of object ``sha`` when ``store`` is a local folder holding it, else ``None``."""
    root = _local_root(store)
    if root is None:
        return None
    path = os.path.join(root, sha[:2], sha[2:])
    return path if os.path.exists(path) else None


def _has_object(root: str, sha: str, size: int) -> bool:
    try:
        return os.stat(os.path.join(root, sha[:2], sha[2:])).st_size == size
    except FileNotFoundError:
        return False


def _parallel(fn: Callable[..., list[Any]], items: Sequence[Any], store: ArtifactStore | None,
              progress: Progress | None) -> Iterator[list[Any]]:
    batches = [items[i:i + _BATCH] for i in range(0, len(items), _BATCH)]
    if not batches:
        return
    if len(batches) == 1:
        out = fn(batches[0], store)
        if progress is not None:
            progress.advance(len(batches[0]))
        yield out
        return
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for batch, out in zip(batches, pool.map(lambda b: fn(b, store), batches), strict=True):
            if progress is not None:
                progress.advance(len(batch))
            yield out


def _hash_batch(batch: Sequence[LocalFile], store: ArtifactStore | None
                ) -> list[tuple[LocalFile, str]]:
    out: list[tuple[LocalFile, str]] = []
    local_root = _local_root(store) if store is not None else None
    for f in batch:
        if f.size > _SMALL:
            stored = store.put_file(Path(f.path)) if store is not None else None
            sha = stored.sha256 if stored is not None else _hash_stream(f.path)
        else:
            with open(f.path, "rb") as fh:
                data = fh.read()
            sha = hashlib.sha256(data).hexdigest()
            if local_root is not None:
                _write_object(local_root, sha, data)
            elif store is not None:
                store.put_bytes(data)
        out.append((f, sha))
    return out


def _hash_stream(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _local_root(store: ArtifactStore | None) -> str | None:
    """The folder of a local artifact store (for the fast path), else ``None``."""
    from kiln.artifacts.local import LocalArtifactStore

    return str(store.root) if isinstance(store, LocalArtifactStore) else None


def _write_object(root: str, sha: str, data: bytes) -> None:
    # The local store's layout. Small objects are created in place (O_EXCL), without
    # temp file, rename and fsync: 100,000 of each would dominate adding many small
    # files. A crash can leave a short object; kiln checks an object's size before
    # trusting it (see _missing) and every read verifies the hash.
    target = os.path.join(root, sha[:2], sha[2:])
    try:
        if os.stat(target).st_size == len(data):
            return
        os.unlink(target)  # a short object left by a crash: write it again
    except FileNotFoundError:
        pass
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return  # another writer stored the same bytes
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def store_snapshot(store: ArtifactStore, path: Path, stat_cache: StatCache,
                   progress: Progress | None = None) -> Snapshot:
    """Store every file under ``path`` (or the file itself) and its manifest."""
    kind, files = scan(path)
    if not files:
        raise InvalidArgumentError(f"data path {str(path)!r} holds no files; nothing to add")
    root = Path(path).resolve()
    cache = stat_cache.load(root)
    known_tree = cache.tree if cache.stored_in == store.url else None
    shas, _hashed = hashes(files, cache, progress, store)
    table = {f.rel: {"sha256": shas[f.rel], "size": f.size} for f in files}
    if cache.tree is not None and cache.tree == known_tree:
        tree = cache.tree  # nothing changed since this tree was stored
    else:
        manifest = json.dumps({"kind": MANIFEST_KIND, "files": table}, sort_keys=True).encode()
        tree = store.put_bytes(manifest).sha256
    cache.tree = tree
    stat_cache.save(root, cache)
    return Snapshot(kind, tree, table)


def load_manifest(store: ArtifactStore, tree: str) -> dict[str, dict[str, Any]]:
    """The ``{rel: {"sha256", "size"}}`` table of a stored snapshot."""
    return read_manifest(store, tree)


@dataclass
class Restored:
    """What a restore did: files written, and files removed because the version has none
    of that name (relative paths, sorted)."""

    written: int = 0
    removed: list[str] = field(default_factory=list)


def restore(store: ArtifactStore, files: dict[str, dict[str, Any]], dest: Path,
            stat_cache: StatCache, progress: Progress | None = None,
            tree: str | None = None, prune: bool = False) -> Restored:
    """Write ``files`` under ``dest`` (hashes verified).

    Files already there with the right content (by the stat cache) are kept. With
    ``prune``, files under ``dest`` that ``files`` does not name are removed (as
    ``dvc checkout`` does), so ``dest`` ends up holding exactly the version. ``tree``
    (the manifest's id) is remembered when ``dest`` holds exactly ``files``.
    """
    dest = Path(dest).resolve()
    if dest.exists() and not dest.is_dir():
        raise InvalidArgumentError(f"cannot restore into {str(dest)!r}: it is a file, not a "
                                   "folder")
    local: dict[str, LocalFile] = {}
    if dest.is_dir():
        found: list[LocalFile] = []
        _walk(str(dest), "", found)
        local = {f.rel: f for f in found}
    if progress is not None:
        progress.start(len(files))
    cache = stat_cache.load(dest) if local else FolderCache()
    if cache.stored_in != store.url:
        cache.entries = {}  # entries of unknown provenance: start over (only re-hashes)
    base = str(dest) + os.sep
    todo: list[tuple[str, str, int]] = []
    for rel, entry in files.items():
        if not os.path.abspath(base + rel).startswith(base):
            raise InvalidArgumentError(f"snapshot names a path outside its folder: {rel!r}")
        hit = cache.entries.get(rel)
        have = local.get(rel)
        if (hit is not None and have is not None and hit[2] == entry["sha256"]
                and have.size == hit[0] and have.mtime_ns == hit[1]):
            continue
        todo.append((rel, entry["sha256"], int(entry["size"])))
    extras = sorted(set(local) - set(files))
    if prune:
        _remove(dest, extras)
    # Entries only for what will be there: the version's files and any extras kept.
    keep = set(files) if prune else set(files) | set(extras)
    cache.entries = {rel: e for rel, e in cache.entries.items() if rel in keep}
    if progress is not None and len(files) > len(todo):
        progress.advance(len(files) - len(todo))
    for parent in sorted({os.path.dirname(base + rel) for rel, _, _ in todo}):
        os.makedirs(parent, exist_ok=True)
    jobs = [(base, rel, sha, size) for rel, sha, size in todo]
    for out in _parallel(_restore_batch, jobs, store, progress):
        for rel, size, mtime_ns, sha in out:
            cache.entries[rel] = (size, mtime_ns, sha)
    cache.tree = tree if prune or not extras else None
    cache.stored_in = store.url
    stat_cache.save(dest, cache)
    return Restored(len(todo), extras if prune else [])


def _remove(dest: Path, rels: Sequence[str]) -> None:
    """Delete ``rels`` under ``dest`` and the folders that this leaves empty."""
    parents: set[str] = set()
    for rel in rels:
        os.unlink(os.path.join(dest, rel))
        parent = os.path.dirname(rel)
        while parent:
            parents.add(parent)
            parent = os.path.dirname(parent)
    for parent in sorted(parents, key=lambda p: p.count("/"), reverse=True):
        with contextlib.suppress(OSError):  # not empty: it still holds the version's files
            os.rmdir(os.path.join(dest, parent))


def _restore_batch(batch: Sequence[tuple[str, str, str, int]], store: ArtifactStore | None
                   ) -> list[tuple[str, int, int, str]]:
    from kiln.artifacts._hashing import verify

    assert store is not None
    local_root = _local_root(store)
    rows: list[tuple[str, int, int, str]] = []
    for base, rel, sha, size in batch:
        target = base + rel
        if local_root is not None and size <= _SMALL:
            src = os.path.join(local_root, sha[:2], sha[2:])
            try:
                with open(src, "rb") as fh:
                    data = fh.read()
            except FileNotFoundError:
                raise NotFoundError(
                    f"artifact {sha} is not in the store at {local_root}"
                ) from None
            verify(sha, hashlib.sha256(data).hexdigest(), len(data), src)
            # Written in place: an interrupted pull leaves a file the stat cache does
            # not vouch for, so status and the next pull see it as changed.
            with open(target, "wb") as out:
                out.write(data)
                out.flush()
                st = os.fstat(out.fileno())
        else:
            store.get_file(sha, Path(target))
            st = os.stat(target)
        rows.append((rel, st.st_size, st.st_mtime_ns, sha))
    return rows
