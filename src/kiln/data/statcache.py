"""A local cache of file hashes per data folder, keyed by size and modification time.

Re-adding a folder or checking its status re-hashes only the files whose size
or mtime changed since kiln last hashed them (as git's index does). The cache
also remembers the folder's tree id and the artifact store that holds every
object, so an unchanged folder is checked by one scan without reading its
manifest or probing the store.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from dataclasses import dataclass, field
from pathlib import Path

_FORMAT = 1
Entry = tuple[int, int, str]  # size, mtime_ns, sha256


@dataclass
class FolderCache:
    """What kiln knows about one folder (or one file): ``{rel: (size, mtime_ns, sha256)}``,
    the tree those entries make (``None``: unknown) and the store that holds them."""

    entries: dict[str, Entry] = field(default_factory=dict)
    tree: str | None = None
    stored_in: str | None = None


class StatCache:
    """One small marshal file per folder under ``KILN_HOME/cache/stat``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _file(self, root: Path) -> Path:
        return self.folder / (hashlib.sha1(str(root).encode()).hexdigest() + ".bin")

    def load(self, root: Path) -> FolderCache:
        """The cache of ``root`` (an absolute path); empty if none or unreadable."""
        try:
            data = marshal.loads(self._file(root).read_bytes())
            fmt, path, entries, tree, stored_in = data
            if fmt != _FORMAT or path != str(root):
                return FolderCache()
            return FolderCache(entries, tree, stored_in)
        except (OSError, EOFError, ValueError, TypeError):
            return FolderCache()

    def save(self, root: Path, cache: FolderCache) -> None:
        """Write the cache of ``root`` (atomically; losing it only costs a re-hash)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._file(root)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(
            (_FORMAT, str(root), cache.entries, cache.tree, cache.stored_in)))
        os.replace(tmp, target)
