"""A local cache of file hashes per data folder, keyed by (path, size, mtime, inode).

Re-adding a folder or checking its status re-hashes only the files whose size,
modification time or inode changed since kiln last hashed them (as git's index
does). The cache also remembers the folder's tree id and the artifact store
that holds every object, so an unchanged folder is checked by one scan without
reading its manifest or probing the store.

It is stored compactly, column by column, in one file per folder: the paths as
one NUL-separated string, sizes, mtimes and inodes as int64 arrays and the
hashes as raw 32-byte digests. Loading 100,000 entries takes milliseconds, and
an unchanged folder is recognised by comparing whole columns with a fresh scan.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from array import array
from dataclasses import dataclass, field
from pathlib import Path

_FORMAT = 2


@dataclass
class Listing:
    """Files of a folder, column by column, in the order a scan found them."""

    rels: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    mtimes: list[int] = field(default_factory=list)
    inodes: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rels)

    def same_stats(self, other: Listing) -> bool:
        """Whether both list the same files with the same size, mtime and inode, in the
        same order (whole-column comparisons, done in C)."""
        return (self.rels == other.rels and self.sizes == other.sizes
                and self.mtimes == other.mtimes and self.inodes == other.inodes)


@dataclass
class FolderCache:
    """What kiln knows about one folder (or one file): a :class:`Listing` with the sha256
    of each file (``shas``, raw 32-byte digests, concatenated), the tree those files make
    (``None``: unknown) and the store that holds them."""

    listing: Listing = field(default_factory=Listing)
    shas: bytes = b""
    tree: str | None = None
    stored_in: str | None = None

    def hexes(self) -> list[str]:
        """The files' sha256 as hex strings, in listing order."""
        text = self.shas.hex()
        return [text[i:i + 64] for i in range(0, len(text), 64)]

    def known(self) -> dict[str, tuple[int, int, int, str]]:
        """``{rel: (size, mtime_ns, inode, sha256)}`` (for partial matches)."""
        ls = self.listing
        return dict(zip(ls.rels, zip(ls.sizes, ls.mtimes, ls.inodes, self.hexes(),
                                     strict=True), strict=True))

    def set(self, listing: Listing, hexes: list[str]) -> None:
        """Describe exactly ``listing``, whose files have the sha256 ``hexes``."""
        self.listing = listing
        self.shas = bytes.fromhex("".join(hexes))


class StatCache:
    """One compact file per folder under ``KILN_HOME/cache/stat``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _file(self, root: Path) -> Path:
        return self.folder / (hashlib.sha1(str(root).encode()).hexdigest() + ".bin")

    def knows(self, root: Path) -> bool:
        """Whether a cache of ``root`` (an absolute path) exists: it was added or pulled."""
        return self._file(root).is_file()

    def load(self, root: Path) -> FolderCache:
        """The cache of ``root`` (an absolute path); empty if none or unreadable."""
        try:
            data = marshal.loads(self._file(root).read_bytes())
            fmt, path, rels, sizes, mtimes, inodes, shas, tree, stored_in = data
            if fmt != _FORMAT or path != str(root):
                return FolderCache()
            listing = Listing(rels.split("\0") if rels else [], _ints("q", sizes),
                              _ints("q", mtimes), _ints("Q", inodes))
            if not (len(listing.rels) == len(listing.sizes) == len(listing.mtimes)
                    == len(listing.inodes) == len(shas) // 32):
                return FolderCache()
            return FolderCache(listing, shas, tree, stored_in)
        except (OSError, EOFError, ValueError, TypeError):
            return FolderCache()

    def save(self, root: Path, cache: FolderCache) -> None:
        """Write the cache of ``root`` (atomically; losing it only costs a re-hash)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._file(root)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        ls = cache.listing
        tmp.write_bytes(marshal.dumps((
            _FORMAT, str(root), "\0".join(ls.rels), array("q", ls.sizes).tobytes(),
            array("q", ls.mtimes).tobytes(), array("Q", ls.inodes).tobytes(), cache.shas,
            cache.tree, cache.stored_in)))
        os.replace(tmp, target)


def _ints(typecode: str, raw: bytes) -> list[int]:
    values = array(typecode)
    values.frombytes(raw)
    return values.tolist()
