"""Snapshots of files and directories in the artifact store, file by file, in parallel.

Each file is stored once by content; a snapshot is a manifest (the
``kiln.artifacts.tree`` format) whose sha256 names the version's tree. Files
whose size, mtime and inode match the stat cache are not read again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiln.artifacts.tree import MANIFEST_KIND, read_manifest
from kiln.data.statcache import FolderCache, Listing
from kiln.exceptions import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    from kiln.artifacts.base import ArtifactStore
    from kiln.artifacts.local import LocalArtifactStore, Packer
    from kiln.artifacts.packs import ObjectLocation
    from kiln.data.statcache import StatCache

class Progress(Protocol):
    """Told how many files there are, then how many are done (a CLI progress bar)."""

    def start(self, total: int) -> None: ...
    def advance(self, n: int) -> None: ...


_BATCH = 512
_SMALL = 16 << 20  # files up to this size are read in one go
WORKERS = min(32, (os.cpu_count() or 2) * 4)  # file I/O releases the GIL
_FORK_MIN = 20_000  # this many small files to hash: worth forking a process per core
_FORK_BATCH = 2_000  # and one pack per batch
_PACK_MIN = 64  # this many files to store in a local store: they go into packs...
_PACK_MAX = 1 << 20  # ...those up to this size (larger ones stay loose: readers such as
# DuckDB read loose objects in place, and per-file costs are small beside their bytes)


@dataclass
class Snapshot:
    """What was stored: the manifest's sha256 (the tree), file count and total size."""

    kind: str
    tree: str
    file_count: int
    size: int


def scan(path: Path) -> tuple[str, str, Listing]:
    """``("file"|"directory", base, listing)`` for ``path``: ``base + rel`` is each file's
    absolute path. A missing path is named clearly."""
    path = Path(path)
    if path.is_file():
        st = path.stat()
        resolved = path.resolve()
        return "file", str(resolved.parent) + os.sep, Listing(
            [resolved.name], [st.st_size], [st.st_mtime_ns], [st.st_ino])
    if not path.is_dir():
        raise NotFoundError(f"data path {str(path)!r} does not exist; give a file or a directory")
    root = str(path.resolve())
    listing = Listing()
    _walk(root, "", listing)
    return "directory", root + os.sep, listing


def _walk(top: str, prefix: str, out: Listing) -> None:
    # Each folder's entries are sorted by name, a folder's as "name/": the walk then yields
    # paths in exactly the sorted order of the whole relative path (what manifests use),
    # so the stat cache, the scan and the manifest all list files in one order. Files are
    # stat'ed relative to the folder's descriptor, a run of them in one comprehension.
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        keys: list[str] = []
        with os.scandir(fd) as it:
            for entry in it:
                if entry.is_file():
                    keys.append(entry.name)
                elif entry.is_dir():
                    keys.append(entry.name + "/")
        keys.sort()
        run: list[str] = []
        for key in keys:
            if key[-1] != "/":
                run.append(key)
                continue
            _stat_run(fd, prefix, run, out)
            run = []
            _walk(os.path.join(top, key[:-1]), prefix + key, out)
        _stat_run(fd, prefix, run, out)
    finally:
        os.close(fd)


def _stat_run(fd: int, prefix: str, names: list[str], out: Listing) -> None:
    if not names:
        return
    stats = [os.stat(name, dir_fd=fd) for name in names]
    out.rels.extend([prefix + name for name in names] if prefix else names)
    out.sizes.extend([st.st_size for st in stats])
    out.mtimes.extend([st.st_mtime_ns for st in stats])
    out.inodes.extend([st.st_ino for st in stats])


def hashes(listing: Listing, base: str, cache: FolderCache, progress: Progress | None = None,
           store: ArtifactStore | None = None) -> tuple[list[str], int]:
    """``(sha256 of each file in listing order, files hashed)``; files whose size, mtime
    and inode match ``cache`` are not read. With ``store``, files not yet in it are stored
    too (read once). ``cache`` is updated in place to describe exactly ``listing``."""
    n = len(listing)
    if progress is not None:
        progress.start(n)
    todo: list[int] = []
    cached = cache.listing
    same = cached.same_stats(listing)
    if same:
        hexes = cache.hexes()  # the common case: nothing changed, compared column-wise
    elif cached.rels == listing.rels:  # the same files, some edited: compare by position
        hexes = cache.hexes()
        todo = [i for i, (a, b, c, x, y, z) in enumerate(zip(
            listing.sizes, listing.mtimes, listing.inodes, cached.sizes, cached.mtimes,
            cached.inodes, strict=True)) if a != x or b != y or c != z]
    else:
        known = cache.known()
        hexes = [""] * n
        sizes, mtimes, inodes = listing.sizes, listing.mtimes, listing.inodes
        for i, rel in enumerate(listing.rels):
            hit = known.get(rel)
            if hit is not None and hit[0] == sizes[i] and hit[1] == mtimes[i] \
                    and hit[2] == inodes[i]:
                hexes[i] = hit[3]
            else:
                todo.append(i)
    if store is not None and cache.stored_in != store.url and len(todo) < n:
        # Cached hashes say nothing about this store (another store, a wiped folder).
        pending = set(todo)
        todo.extend(_missing(store, [i for i in range(n) if i not in pending], hexes,
                             listing.sizes))
    if progress is not None and n > len(todo):
        progress.advance(n - len(todo))
    jobs = [(i, base + listing.rels[i], listing.sizes[i]) for i in todo]
    local = _local_store(store)
    pack = local is not None and len(jobs) >= _PACK_MIN
    if pack and local is not None:
        local.refresh_packs()  # objects packed by others are not stored again
    forkable = len(jobs) >= _FORK_MIN and hasattr(os, "fork") and (
        store is None or local is not None) and max(listing.sizes) <= _SMALL
    with (local.packer() if pack and local is not None and not forkable
          else contextlib.nullcontext()) as packer:
        results = (_forked(jobs, local, pack, progress) if forkable
                   else _parallel(partial(_hash_batch, store=store, packer=packer), jobs,
                                  progress))
        for batch_result in results:
            for i, sha in batch_result:
                hexes[i] = sha
    if not same or todo:
        known_files = len(cached)
        cache.set(listing, hexes)
        if todo or known_files != n:
            cache.tree = None
    if store is not None:
        cache.stored_in = store.url  # every entry's object is in it now
    elif todo:
        cache.stored_in = None  # fresh hashes of files that no store holds yet
    return hexes, len(todo)


def _missing(store: ArtifactStore, indexes: list[int], hexes: list[str], sizes: list[int]
             ) -> list[int]:
    local = _local_store(store)
    if local is not None:
        local.refresh_packs()  # a long-lived store may not know what another process packed
        return [i for i in indexes if not local.has_object(hexes[i], sizes[i])]
    return [i for i in indexes if not store.exists(hexes[i])]


def local_object(store: ArtifactStore, sha: str) -> str | None:
    """The path of object ``sha`` when ``store`` is a local folder holding it as a loose
    file, else ``None`` (a packed object has no file of its own)."""
    local = _local_store(store)
    loc = local.locate(sha) if local is not None else None
    return str(loc.path) if loc is not None and not loc.packed else None


def _parallel(fn: Callable[[Sequence[Any]], list[Any]], items: Sequence[Any],
              progress: Progress | None) -> Iterator[list[Any]]:
    batches = [items[i:i + _BATCH] for i in range(0, len(items), _BATCH)]
    if not batches:
        return
    if len(batches) == 1:
        out = fn(batches[0])
        if progress is not None:
            progress.advance(len(batches[0]))
        yield out
        return
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for batch, out in zip(batches, pool.map(fn, batches), strict=True):
            if progress is not None:
                progress.advance(len(batch))
            yield out


def _forked(jobs: Sequence[tuple[int, str, int]], store: LocalArtifactStore | None,
            pack: bool, progress: Progress | None) -> Iterator[list[tuple[int, str]]]:
    """Hash (and store in the local ``store``, each batch as a pack with ``pack``) many
    small files on every core: threads share one interpreter lock, and at ~50 us of Python
    per file it, not the disk, limits them (100,000 files of 1 KB: 6.1 s with threads,
    3.4 s with two processes here). The children only read files and write objects; they
    never touch the metadata store."""
    import multiprocessing

    batches = [jobs[i:i + _FORK_BATCH] for i in range(0, len(jobs), _FORK_BATCH)]
    # Forked, the children inherit the store, its pack index loaded, through the
    # initializer (never pickled).
    with multiprocessing.get_context("fork").Pool(
            os.cpu_count() or 2, initializer=_adopt, initargs=(store, pack)) as pool:
        for batch, out in zip(batches, pool.imap(_hash_small, batches), strict=True):
            if progress is not None:
                progress.advance(len(batch))
            yield out


_child: tuple[LocalArtifactStore | None, bool] = (None, False)  # set in forked children only


def _adopt(store: LocalArtifactStore | None, pack: bool) -> None:
    global _child
    _child = (store, pack)


def _hash_small(batch: Sequence[tuple[int, str, int]]) -> list[tuple[int, str]]:
    store, pack = _child
    out: list[tuple[int, str]] = []
    with (store.packer() if pack and store is not None
          else contextlib.nullcontext()) as packer:
        for i, path, size in batch:
            out.append((i, _store_small(path, size, packer, store, None)))
    return out


def _hash_batch(batch: Sequence[tuple[int, str, int]], store: ArtifactStore | None,
                packer: Packer | None) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    local = _local_store(store)
    for i, path, size in batch:
        if size > _SMALL:
            stored = store.put_file(Path(path)) if store is not None else None
            sha = stored.sha256 if stored is not None else _hash_stream(path)
        else:
            sha = _store_small(path, size, packer, local, store)
        out.append((i, sha))
    return out


def _store_small(path: str, size: int, packer: Packer | None,
                 local: LocalArtifactStore | None, store: ArtifactStore | None) -> str:
    """Read a small file whole, hash it, store it (in the pack, else loose in the local
    store, else through ``store``); its sha256."""
    data = _read_small(path, size)
    sha = hashlib.sha256(data).hexdigest()
    if packer is not None and size <= _PACK_MAX:
        packer.add(data, sha)
    elif local is not None:
        local.put_loose(sha, data)
    elif store is not None:
        store.put_bytes(data)
    return sha


def _read_small(path: str, size: int) -> bytes:
    """The whole file, expected to hold ``size`` bytes: with ``os.read`` it costs half of
    ``open().read()`` (no file object), which matters at 100,000 files."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, size + 1)  # a short read of a regular file is its end
        if len(data) <= size:
            return data
        blocks = [data]  # it grew since it was listed
        while block := os.read(fd, 1 << 20):
            blocks.append(block)
        return b"".join(blocks)
    finally:
        os.close(fd)


def _hash_stream(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _local_store(store: ArtifactStore | None) -> LocalArtifactStore | None:
    """``store`` if it is a local folder (for the fast paths: packs, loose writes in
    place, reads by location), else ``None``."""
    from kiln.artifacts.local import LocalArtifactStore

    return store if isinstance(store, LocalArtifactStore) else None


def store_snapshot(store: ArtifactStore, path: Path, stat_cache: StatCache,
                   progress: Progress | None = None) -> Snapshot:
    """Store every file under ``path`` (or the file itself) and its manifest."""
    kind, base, listing = scan(path)
    if not listing.rels:
        raise InvalidArgumentError(f"data path {str(path)!r} holds no files; nothing to add")
    root = Path(path).resolve()
    cache = stat_cache.load(root)
    known_tree = cache.tree if cache.stored_in == store.url else None
    hexes, _hashed = hashes(listing, base, cache, progress, store)
    if cache.tree is not None and cache.tree == known_tree:
        tree = cache.tree  # nothing changed since this tree was stored
    else:
        manifest = manifest_bytes(listing.rels, hexes, listing.sizes)
        if getattr(store, "supports_unsynced", False):
            # Like the file objects above and the metadata's SQLite WAL (synchronous=NORMAL):
            # survives a process crash; after an OS crash a torn manifest fails its hash
            # check on read. An fsync of a 100,000-file manifest (11 MB) cost seconds here.
            tree = store.put_bytes(manifest, sync=False).sha256  # type: ignore[call-arg]
        else:
            tree = store.put_bytes(manifest).sha256
    cache.tree = tree
    stat_cache.save(root, cache)
    return Snapshot(kind, tree, len(listing), sum(listing.sizes))


class ForkedSnapshot:
    """:func:`store_snapshot` in a forked child process while this one does other work.

    ``kiln data add`` of a folder it has seen before (a re-add: a few files changed) spends
    about as long opening the metadata store (importing SQLAlchemy) as scanning 100,000
    files against the stat cache; in a child the two overlap on two cores. The child only
    reads the folder and writes objects, the manifest and the stat cache, as an
    in-process snapshot would, and reports the :class:`Snapshot`. ``result()`` is
    ``None`` whenever the child could not make one: the caller then snapshots in-process
    and meets any error itself.
    """

    def __init__(self, pid: int, fd: int) -> None:
        self._pid = pid
        self._fd = fd

    @classmethod
    def start(cls, open_store: Callable[[], ArtifactStore], path: Path,
              stat_cache: StatCache) -> ForkedSnapshot | None:
        """Fork the child (``None`` where there is no ``fork``). ``open_store`` runs in it."""
        if not hasattr(os, "fork"):
            return None
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(read_end)
                snap = store_snapshot(open_store(), path, stat_cache)
                with os.fdopen(write_end, "wb") as out:
                    out.write(json.dumps(dataclasses.asdict(snap)).encode())
                code = 0
            finally:
                os._exit(code)  # no atexit handlers, no flushing the parent's buffers
        os.close(write_end)
        return cls(pid, read_end)

    def result(self) -> Snapshot | None:
        """Wait for the child; its snapshot, or ``None`` if it failed."""
        with os.fdopen(self._fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        if status != 0 or not data:
            return None
        try:
            return Snapshot(**json.loads(data))
        except (ValueError, TypeError):
            return None


# Names json.dumps writes as they are (no escapes): then the manifest is joined directly.
_ESCAPED = re.compile(r'["\\\x00-\x1f\x7f-\U0010ffff]')


def manifest_bytes(rels: list[str], hexes: list[str], sizes: list[int]) -> bytes:
    """The tree manifest of these files, byte for byte what ``json.dumps({"kind": ...,
    "files": {rel: {"sha256": ..., "size": ...}}}, sort_keys=True)`` writes (tree ids stay
    stable), built an order of magnitude faster for many files."""
    rows: Iterable[tuple[str, str, int]] = zip(rels, hexes, sizes, strict=True)
    if sorted(rels) != rels:  # a scan's order is sorted already (cheap to check)
        rows = sorted(rows)
    if _ESCAPED.search("".join(rels)) is None:
        body = ", ".join([f'"{r}": {{"sha256": "{h}", "size": {n}}}' for r, h, n in rows])
    else:
        body = ", ".join([f'{json.dumps(r)}: {{"sha256": "{h}", "size": {n}}}'
                          for r, h, n in rows])
    return f'{{"files": {{{body}}}, "kind": "{MANIFEST_KIND}"}}'.encode()


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
            tree: str | None = None, prune: bool = False,
            only_known: bool = False) -> Restored:
    """Write ``files`` under ``dest`` (hashes verified).

    Files already there with the right content (by the stat cache) are kept. With
    ``prune``, files under ``dest`` that ``files`` does not name are removed (as
    ``dvc checkout`` does), so ``dest`` ends up holding exactly the version. ``tree``
    (the manifest's id) is remembered when ``dest`` holds exactly ``files``. With
    ``only_known``, files are removed only from a folder kiln wrote before (its stat
    cache knows it); other files there are an error, and nothing is touched.
    """
    dest = Path(dest).resolve()
    if dest.exists() and not dest.is_dir():
        raise InvalidArgumentError(f"cannot restore into {str(dest)!r}: it is a file, not a "
                                   "folder")
    base = str(dest) + os.sep
    local = Listing()
    if prune and dest.is_dir():
        _walk(str(dest), "", local)
    elif dest.is_dir():  # only the files named: the folder may hold much else
        for rel in files:
            with contextlib.suppress(OSError):
                st = os.stat(base + rel)
                local.rels.append(rel)
                local.sizes.append(st.st_size)
                local.mtimes.append(st.st_mtime_ns)
                local.inodes.append(st.st_ino)
    at = {rel: i for i, rel in enumerate(local.rels)}
    if progress is not None:
        progress.start(len(files))
    cache = stat_cache.load(dest) if local.rels else FolderCache()
    # Entries of unknown provenance are not trusted: such files are written again.
    known = cache.known() if cache.stored_in == store.url else {}
    kept: dict[str, tuple[int, int, int, str]] = {}
    todo: list[tuple[str, str, int]] = []
    for rel, entry in files.items():
        if not os.path.abspath(base + rel).startswith(base):
            raise InvalidArgumentError(f"snapshot names a path outside its folder: {rel!r}")
        hit = known.get(rel)
        i = at.get(rel)
        if (hit is not None and i is not None and hit[3] == entry["sha256"]
                and local.sizes[i] == hit[0] and local.mtimes[i] == hit[1]
                and local.inodes[i] == hit[2]):
            kept[rel] = hit
            continue
        todo.append((rel, entry["sha256"], int(entry["size"])))
    extras = sorted(set(at) - set(files))  # found only by the walk that prunes
    if extras and only_known and not cache.listing.rels:
        shown = ", ".join(extras[:3]) + (", ..." if len(extras) > 3 else "")
        raise InvalidArgumentError(
            f"folder {str(dest)!r} holds {len(extras)} files that the version does not "
            f"({shown}) and kiln did not write it; give a new or empty folder (or one "
            "kiln wrote before, which is then made to match the version)"
        )
    _remove(dest, extras)
    if progress is not None and len(files) > len(todo):
        progress.advance(len(files) - len(todo))
    for parent in sorted({os.path.dirname(base + rel) for rel, _, _ in todo}):
        os.makedirs(parent, exist_ok=True)
    local_store = _local_store(store)
    if local_store is not None:
        # Read in pack order: a batch then reads one or two packs, front to back.
        small = local_store.locate_many([sha for _, sha, size in todo if size <= _SMALL])
        where = iter(small)
        found = [(next(where) if size <= _SMALL else None, rel, sha, size)
                 for rel, sha, size in todo]
        found.sort(key=lambda r: (str(r[0].path), r[0].offset) if r[0] is not None
                   else ("", 0))
        jobs = [(base, rel, sha, size, loc) for loc, rel, sha, size in found]
    else:
        jobs = [(base, rel, sha, size, None) for rel, sha, size in todo]
    for out in _parallel(partial(_restore_batch, store=store), jobs, progress):
        for rel, size, mtime_ns, inode, sha in out:
            kept[rel] = (size, mtime_ns, inode, sha)
    if len(kept) == len(files):  # the cache in the scan's (the manifest's) order: then the
        kept = {rel: kept[rel] for rel in files}  # next status compares it column-wise
    cols = list(zip(*kept.values(), strict=True)) if kept else [(), (), (), ()]
    cache.set(Listing(list(kept), list(cols[0]), list(cols[1]), list(cols[2])), list(cols[3]))
    cache.tree = tree if prune else None  # only then does dest hold exactly ``files``
    cache.stored_in = store.url
    stat_cache.save(dest, cache)
    return Restored(len(todo), extras)


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


def _restore_batch(batch: Sequence[tuple[str, str, str, int, ObjectLocation | None]],
                   store: ArtifactStore) -> list[tuple[str, int, int, int, str]]:
    local = _local_store(store)
    rows: list[tuple[str, int, int, int, str]] = []
    packs: dict[Path, int] = {}  # each pack opened once per batch, read with pread
    try:
        for base, rel, sha, size, loc in batch:
            target = base + rel
            if local is not None and size <= _SMALL:
                if loc is None:
                    raise NotFoundError(f"artifact {sha} is not in the store at {local.url}")
                fd = None
                if loc.packed:
                    fd = packs.get(loc.path)
                    if fd is None:
                        fd = packs[loc.path] = os.open(loc.path, os.O_RDONLY)
                data = local.read_located(sha, loc, fd)
                # Written in place: an interrupted pull leaves a file the stat cache does
                # not vouch for, so status and the next pull see it as changed.
                with open(target, "wb") as out:
                    out.write(data)
                    out.flush()
                    st = os.fstat(out.fileno())
            else:
                store.get_file(sha, Path(target))
                st = os.stat(target)
            rows.append((rel, st.st_size, st.st_mtime_ns, st.st_ino, sha))
    finally:
        for fd in packs.values():
            os.close(fd)
    return rows
