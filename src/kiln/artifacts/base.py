"""The artifact store interface: bytes kept by sha256, written atomically, verified on read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What a put returns: the content's sha256 and its size in bytes."""

    sha256: str
    size: int


@runtime_checkable
class ArtifactStore(Protocol):
    """Content-addressed storage. ``kiln.testing.ArtifactStoreSuite`` checks implementations.

    ``put_*`` deduplicate (the same bytes are stored once) and are atomic: a
    reader never sees a partial object. ``get_*`` verify the hash and raise
    :class:`~kiln.exceptions.ArtifactCorruptedError` naming the object if the
    bytes were changed or truncated.
    """

    url: str

    def put_file(self, path: Path) -> StoredObject: ...
    def put_bytes(self, data: bytes) -> StoredObject: ...
    def put_stream(self, stream: BinaryIO) -> StoredObject: ...
    def exists(self, sha256: str) -> bool: ...
    def get_bytes(self, sha256: str) -> bytes: ...
    def get_file(self, sha256: str, dest: Path) -> Path: ...
