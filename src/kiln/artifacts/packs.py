"""Pack files of the local artifact store: many small objects in one file, found by an index.

Writing 100,000 objects of 1 KB as loose files costs more kernel time (a create,
a write and a close each) than reading and hashing them; appended to one pack
they cost a write call per megabyte. As in git, a pack is a plain concatenation
of objects, and its index names where each one is::

    <root>/packs/pack-<name>.pack   the objects' bytes, one after another
    <root>/packs/pack-<name>.idx    b"KILNIDX1", count (u64), count sorted 32-byte
                                    sha256 digests, count u64 offsets, count u64
                                    sizes, the pack's size (u64), and the sha256 of
                                    all of that (32 bytes); little-endian

Both files are written to a temporary name and renamed, the pack first: a pack
without its index is invisible, so a crash leaves only unused bytes, and those
objects are stored again by the next add. ``<name>`` hashes the digests and sizes
in pack order, so two writers that produce the same name wrote the same bytes.
Nothing is fsync'ed, like the loose small objects (see ``kiln.data.snapshot``):
every read verifies the object's hash, and an index whose checksum or pack size
does not match is ignored.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import threading
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from sys import byteorder
from typing import BinaryIO

_MAGIC = b"KILNIDX1"
_BUFFER = 1 << 20
_MODE = 0o644  # as loose objects written in place: readable by a server's other users
_TICK = 1_000_000_000  # ns: far above any kernel clock tick
_QUIET = 0.05  # s between looks at packs/ for deduplication (a stat per miss cost 20%)


@dataclass(frozen=True, slots=True)
class ObjectLocation:
    """Where an object's bytes are: a whole loose file (``packed`` false, ``offset`` 0) or
    ``size`` bytes at ``offset`` in a pack file."""

    path: Path
    offset: int
    size: int
    packed: bool


class PackWriter:
    """Appends objects to a new pack; :meth:`close` publishes it (pack, then index).

    Thread-safe: the threads of one add share a writer. Use it through
    :meth:`kiln.artifacts.local.LocalArtifactStore.packer`.
    """

    def __init__(self, folder: Path, tmp: Path) -> None:
        self._folder = folder
        self._tmp = tmp
        self._lock = threading.Lock()
        self._out: BinaryIO | None = None
        self._tmp_name = ""
        self._offset = 0
        self._entries: dict[bytes, tuple[int, int]] = {}
        self._order = hashlib.sha256()

    def add(self, sha256: str, data: bytes) -> None:
        """Append ``data`` whose sha256 the caller computed (every read checks it)."""
        digest = bytes.fromhex(sha256)
        with self._lock:
            if digest in self._entries:
                return
            if self._out is None:
                fd, self._tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="pack-")
                os.fchmod(fd, _MODE)
                self._out = os.fdopen(fd, "wb", buffering=_BUFFER)
            self._out.write(data)
            self._entries[digest] = (self._offset, len(data))
            self._offset += len(data)
            self._order.update(digest + len(data).to_bytes(8, "little"))

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> Path | None:
        """Publish the pack; return its index's path (``None`` when nothing was added)."""
        with self._lock:
            if self._out is None:
                return None
            self._out.close()
            self._out = None
            name = "pack-" + self._order.hexdigest()[:40]
            self._folder.mkdir(exist_ok=True)
            os.replace(self._tmp_name, self._folder / f"{name}.pack")
            fd, tmp_idx = tempfile.mkstemp(dir=self._tmp, prefix="idx-")
            os.fchmod(fd, _MODE)
            with os.fdopen(fd, "wb") as out:
                out.write(index_bytes(self._entries, self._offset))
            idx = self._folder / f"{name}.idx"
            os.replace(tmp_idx, idx)
            return idx

    def abort(self) -> None:
        """Drop what was written; nothing becomes visible."""
        with self._lock:
            if self._out is not None:
                self._out.close()
                self._out = None
                os.unlink(self._tmp_name)


def index_bytes(entries: dict[bytes, tuple[int, int]], pack_size: int) -> bytes:
    """The index of a pack holding ``entries`` (``{digest: (offset, size)}``)."""
    digests = sorted(entries)
    offsets = array("Q", [entries[d][0] for d in digests])
    sizes = array("Q", [entries[d][1] for d in digests])
    if byteorder != "little":  # pragma: no cover - big-endian machines
        offsets.byteswap()
        sizes.byteswap()
    body = b"".join([_MAGIC, struct.pack("<Q", len(digests)), *digests, offsets.tobytes(),
                     sizes.tobytes(), struct.pack("<Q", pack_size)])
    return body + hashlib.sha256(body).digest()


def read_index(path: Path) -> tuple[list[str], array[int], array[int]] | None:
    """``(hex digests, offsets, sizes)`` of an index, or ``None`` when it is torn, not an
    index, or its pack is missing or of another size (a crash's leftovers)."""
    try:
        data = path.read_bytes()
        pack_size = os.stat(path.with_suffix(".pack")).st_size
    except FileNotFoundError:
        return None
    if len(data) < 56 or data[:8] != _MAGIC \
            or hashlib.sha256(data[:-32]).digest() != data[-32:]:
        return None
    (count,) = struct.unpack_from("<Q", data, 8)
    start = 16 + 32 * count
    if len(data) != start + 16 * count + 40 \
            or struct.unpack_from("<Q", data, start + 16 * count)[0] != pack_size:
        return None
    text = data[16:start].hex()  # one conversion, then slices: 3x faster than per digest
    digests = [text[i:i + 64] for i in range(0, 64 * count, 64)]
    offsets = array("Q", data[start:start + 8 * count])
    sizes = array("Q", data[start + 8 * count:start + 16 * count])
    if byteorder != "little":  # pragma: no cover - big-endian machines
        offsets.byteswap()
        sizes.byteswap()
    return digests, offsets, sizes


class PackIndex:
    """Every published pack's objects, ``{sha256: (pack, offset, size)}``; loaded on first
    use and topped up when ``packs/`` changes (a new index renamed in, a pack rewritten)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._next_look = 0.0
        self._stale = False  # this process published a pack since the last look
        self._loaded: frozenset[str] = frozenset()
        # swapped as one tuple, so a reader never pairs a pack number with another list
        self._state: tuple[list[Path], dict[str, tuple[int, int, int]]] = ([], {})

    @property
    def loaded(self) -> bool:
        """Whether ``packs/`` was read already (by a lookup or a refresh)."""
        return self._stamp is not None

    def find(self, sha256: str, *, thorough: bool = True) -> ObjectLocation | None:
        """Where ``sha256`` is packed, rereading ``packs/`` first if it changed. Without
        ``thorough``, a folder changed within the same clock tick may be missed: enough
        for deduplication (a miss only stores an object twice), not for reading."""
        packs, where = self._state
        hit = where.get(sha256)
        if hit is None and self.refresh(thorough=thorough):
            packs, where = self._state
            hit = where.get(sha256)
        if hit is None:
            return None
        return ObjectLocation(packs[hit[0]], hit[1], hit[2], True)

    def refresh(self, *, thorough: bool = False, force: bool = False) -> bool:
        """Load indexes that appeared since the last look; ``True`` if anything changed."""
        stale, self._stale = self._stale, False
        if not thorough and not force and not stale:
            now = time.monotonic()
            if now < self._next_look and self._stamp is not None:
                return False
            self._next_look = now + _QUIET
        try:
            stamp = os.stat(self.folder).st_mtime_ns
        except FileNotFoundError:
            stamp = 0
        # A folder's mtime has the kernel's clock tick (a few ms): two renames in one tick
        # leave one stamp, so a recent stamp proves nothing to a reader.
        recent = thorough and time.time_ns() - stamp < _TICK
        if stamp == self._stamp and not recent and not force and not stale:
            return False
        with self._lock:
            names = frozenset(n for n in os.listdir(self.folder) if n.endswith(".idx")
                              ) if stamp else frozenset()
            if names == self._loaded and not force:
                self._stamp = stamp
                return False
            packs, where = self._state
            loaded = set(self._loaded)
            if force or loaded - names:  # a pack was rewritten without some object
                packs, where, loaded = [], {}, set()
            # else topped up in place: a pack is listed before any entry names its number
            for name in sorted(names - loaded):
                table = read_index(self.folder / name)
                if table is None:
                    continue
                loaded.add(name)
                number = len(packs)
                packs.append((self.folder / name).with_suffix(".pack"))
                # Any copy of a duplicated object will do: they hold the same bytes.
                digests, offsets, sizes = table
                where.update(zip(digests, zip([number] * len(digests), offsets, sizes,
                                              strict=True), strict=True))
            self._state = (packs, where)
            self._loaded = frozenset(loaded)
            self._stamp = stamp
        return True

    def published(self) -> None:
        """Note that this process published a pack: the next miss looks at once."""
        self._stale = True

    def packs_holding(self, sha256: str) -> list[Path]:
        """Every pack (not only the first) whose index names ``sha256``."""
        self.refresh(force=True)
        found = []
        for name in sorted(self._loaded):
            table = read_index(self.folder / name)
            if table is not None and sha256 in table[0]:
                found.append((self.folder / name).with_suffix(".pack"))
        return found


def rewrite_without(pack: Path, sha256: str, tmp: Path) -> None:
    """Replace ``pack`` by a pack of its other objects (a deletion: packs are immutable).
    The new pack is published before the old index goes, so the others stay readable."""
    table = read_index(pack.with_suffix(".idx"))
    if table is None:
        return
    writer = PackWriter(pack.parent, tmp)
    try:
        with open(pack, "rb") as f:
            for sha, offset, size in sorted(zip(*table, strict=True), key=lambda r: r[1]):
                if sha != sha256:
                    writer.add(sha, os.pread(f.fileno(), size, offset))
        new_idx = writer.close()
    except BaseException:
        writer.abort()
        raise
    if new_idx != pack.with_suffix(".idx"):
        pack.with_suffix(".idx").unlink(missing_ok=True)
        pack.unlink(missing_ok=True)


__all__ = ["ObjectLocation", "PackIndex", "PackWriter"]
