"""Artifacts in a local folder: loose files ``<root>/<sha[:2]>/<sha[2:]>`` (temp file +
rename) or, when many small ones are added at once, pack files ``<root>/packs/`` (see
:mod:`kiln.artifacts.packs`). Every reader sees both."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kiln.artifacts._hashing import (
    check_sha,
    chunks,
    copy_verified,
    new_hash,
    verify,
    write_atomically,
)
from kiln.artifacts.base import StoredObject
from kiln.artifacts.packs import ObjectLocation, PackIndex, PackWriter, rewrite_without
from kiln.exceptions import NotFoundError

_LOOSE_DIRS_TTL = 1.0  # s


class LocalArtifactStore:
    """The embedded default artifact store.

    >>> import tempfile
    >>> store = LocalArtifactStore(tempfile.mkdtemp())
    >>> obj = store.put_bytes(b"hello")
    >>> store.get_bytes(obj.sha256)
    b'hello'
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.url = str(self.root)
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._packs = PackIndex(self.root / "packs")  # read on first use
        self._loose_dirs: tuple[float, set[str]] = (0.0, set())  # when listed, and what

    def path_of(self, sha256: str) -> Path:
        """Where the object's loose file lives (whether or not it exists). A packed object
        has none: :meth:`locate` says where any object is."""
        sha = check_sha(sha256)
        return self.root / sha[:2] / sha[2:]

    def locate(self, sha256: str) -> ObjectLocation | None:
        """Where the object's bytes are, loose or in a pack; ``None`` if it is not stored.

        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> with store.packer() as pack:
        ...     sha = pack.add(b"small")
        >>> loc = store.locate(sha)
        >>> (loc.packed, loc.offset, loc.size)
        (True, 0, 5)
        """
        path = self.path_of(sha256)
        try:
            return ObjectLocation(path, 0, os.stat(path).st_size, False)
        except (FileNotFoundError, NotADirectoryError):
            return self._packs.find(check_sha(sha256))

    def locate_many(self, shas: list[str]) -> list[ObjectLocation | None]:
        """:meth:`locate` for many objects (a pull): packed ones are looked up in the
        index first, without a ``stat`` and a ``Path`` each (1.4 s for 100,000 before)."""
        self._packs.refresh(thorough=True)
        out: list[ObjectLocation | None] = []
        for sha in shas:
            hit = self._packs.find(check_sha(sha), thorough=False)
            if hit is None:
                loose = os.path.join(self.url, sha[:2], sha[2:])
                try:
                    hit = ObjectLocation(Path(loose), 0, os.stat(loose).st_size, False)
                except (FileNotFoundError, NotADirectoryError):
                    hit = self.locate(sha)  # published a moment ago, or not stored
            out.append(hit)
        return out

    def has_object(self, sha256: str, size: int) -> bool:
        """Whether an object of ``size`` bytes is stored (a loose file of another size was
        cut short by a crash): the quick check before storing many small objects."""
        hit = self._packs.find(sha256, thorough=False)
        if hit is not None:
            return hit.size == size
        # No stat for an object whose folder did not exist a moment ago (all of them in a
        # new store): one folder made since then by another process only costs a duplicate.
        listed, dirs = self._loose_dirs
        if time.monotonic() - listed > _LOOSE_DIRS_TTL:
            dirs = set(os.listdir(self.url))
            self._loose_dirs = (time.monotonic(), dirs)
        if sha256[:2] not in dirs:
            return False
        try:
            return os.stat(os.path.join(self.url, sha256[:2], sha256[2:])).st_size == size
        except FileNotFoundError:
            return False

    def refresh_packs(self) -> None:
        """Read the indexes of packs published since the last look. Lookups do this when
        they miss; call it before forking workers, so they share one copy."""
        self._packs.refresh(thorough=True)

    def put_loose(self, sha256: str, data: bytes) -> None:
        """Store small ``data`` whose sha256 the caller computed, unless it is stored.

        Created in place (``O_EXCL``), without temp file, rename and fsync: 100,000 of each
        would dominate adding many small files. A crash can leave a short object;
        :meth:`has_object` checks the size before trusting it, and every read verifies
        the hash."""
        if self._packed_already(sha256, len(data)):
            return
        target = os.path.join(self.url, sha256[:2], sha256[2:])
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
            self._loose_dirs[1].add(sha256[:2])
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return  # another writer stored the same bytes
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    def _packed_already(self, sha256: str, size: int) -> bool:
        # Checked only if the pack index is loaded already: reading it (0.1 s for 100,000
        # packed objects) to avoid storing one object twice is not worth it.
        if not self._packs.loaded:
            return False
        packed = self._packs.find(sha256, thorough=False)
        return packed is not None and packed.size == size

    @contextlib.contextmanager
    def packer(self) -> Iterator[Packer]:
        """A new pack for many small objects, published when the block ends (discarded if
        it raises); objects in it become visible together.

        >>> import tempfile
        >>> store = LocalArtifactStore(tempfile.mkdtemp())
        >>> with store.packer() as pack:
        ...     shas = [pack.add(f"row {i}".encode()) for i in range(3)]
        >>> store.get_bytes(shas[1])
        b'row 1'
        """
        writer = PackWriter(self._packs.folder, self._tmp)
        try:
            yield Packer(self, writer)
        except BaseException:
            writer.abort()
            raise
        if writer.close() is not None:
            self._packs.published()

    def read_located(self, sha256: str, loc: ObjectLocation, fd: int | None = None) -> bytes:
        """The verified bytes at ``loc`` (from :meth:`locate`); ``fd`` may be the open pack."""
        if fd is not None:
            data = os.pread(fd, loc.size, loc.offset)
        elif loc.packed:
            with open(loc.path, "rb", buffering=0) as f:
                data = os.pread(f.fileno(), loc.size, loc.offset)
        else:
            data = loc.path.read_bytes()
        digest = new_hash()
        digest.update(data)
        verify(check_sha(sha256), digest.hexdigest(), len(data), _where(loc))
        return data

    def delete(self, sha256: str) -> bool:
        """Remove the object, loose or packed (a pack holding it is rewritten without it);
        ``True`` if it was stored. For erasure requests: nothing else deletes objects."""
        sha = check_sha(sha256)
        found = False
        with contextlib.suppress(FileNotFoundError):
            self.path_of(sha).unlink()
            found = True
        for pack in self._packs.packs_holding(sha):
            rewrite_without(pack, sha, self._tmp)
            found = True
        if found:
            self._packs.refresh(force=True)
        return found

    #: ``put_*`` accept ``sync=False``: skip the fsync, keeping what SQLite's WAL with
    #: ``synchronous=NORMAL`` guarantees for metadata (a write survives a process crash;
    #: an OS crash may lose it, and a torn object then fails its hash check on read).
    supports_unsynced = True

    def put_file(self, path: Path, *, sync: bool = True) -> StoredObject:
        with open(path, "rb") as f:
            return self.put_stream(f, sync=sync)

    def put_bytes(self, data: bytes, *, sync: bool = True) -> StoredObject:
        digest = new_hash()
        digest.update(data)
        sha = digest.hexdigest()
        if self.path_of(sha).exists() or self._packed_already(sha, len(data)):
            return StoredObject(sha, len(data))
        return self.put_stream(io.BytesIO(data), sync=sync)

    def put_stream(self, stream: BinaryIO, *, sync: bool = True) -> StoredObject:
        digest = new_hash()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                for block in chunks(stream):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
                out.flush()
                if sync:
                    os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path_of(sha)
            if target.exists():
                os.unlink(tmp_name)
            else:
                target.parent.mkdir(exist_ok=True)
                self._loose_dirs[1].add(sha[:2])
                os.replace(tmp_name, target)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        return StoredObject(sha, size)

    def exists(self, sha256: str) -> bool:
        return self.locate(sha256) is not None

    def get_bytes(self, sha256: str) -> bytes:
        try:
            return self.read_located(sha256, self._existing(sha256))
        except FileNotFoundError:  # its pack was rewritten meanwhile (a deletion)
            self._packs.refresh(force=True)
            return self.read_located(sha256, self._existing(sha256))

    def get_file(self, sha256: str, dest: Path) -> Path:
        """Copy the object to ``dest`` (atomically), verifying its hash on the way."""
        loc = self._existing(sha256)

        def fill(out: BinaryIO) -> None:
            if loc.packed:  # small by construction: verified whole, then written
                out.write(self.get_bytes(sha256))
                return
            with open(loc.path, "rb") as f:
                copy_verified(f, out, sha256, str(loc.path))

        return write_atomically(dest, fill)

    def _existing(self, sha256: str) -> ObjectLocation:
        loc = self.locate(sha256)
        if loc is None:
            raise NotFoundError(f"artifact {check_sha(sha256)} is not in the store at {self.url}")
        return loc

    def __repr__(self) -> str:
        return f"LocalArtifactStore({self.url!r})"


class Packer:
    """Adds small objects to one new pack: ``add(data) -> sha256``. Objects already stored
    are skipped; the pack is published when the ``packer()`` block ends."""

    def __init__(self, store: LocalArtifactStore, writer: PackWriter) -> None:
        self._store = store
        self._writer = writer

    def add(self, data: bytes, sha256: str | None = None) -> str:
        """Store ``data`` (whose ``sha256`` a caller that hashed it already may pass)."""
        sha = sha256 if sha256 is not None else new_hash_hex(data)
        if not self._store.has_object(sha, len(data)):
            self._writer.add(sha, data)
        return sha

    def __len__(self) -> int:
        return len(self._writer)


def new_hash_hex(data: bytes) -> str:
    digest = new_hash()
    digest.update(data)
    return digest.hexdigest()


def _where(loc: ObjectLocation) -> str:
    return f"{loc.path} (bytes {loc.offset}-{loc.offset + loc.size})" if loc.packed \
        else str(loc.path)


__all__ = ["LocalArtifactStore", "Packer"]
