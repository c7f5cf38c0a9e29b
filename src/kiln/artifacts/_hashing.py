"""Streaming sha256 helpers shared by the artifact stores."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from kiln.exceptions import ArtifactCorruptedError, InvalidArgumentError

CHUNK = 1 << 20
_SHA = re.compile(r"^[0-9a-f]{64}$")


def check_sha(sha256: str) -> str:
    """Return ``sha256`` (a ``sha256:`` prefix removed) or raise naming the bad value."""
    value = sha256.removeprefix("sha256:").lower()
    if not _SHA.match(value):
        raise InvalidArgumentError(
            f"artifact id {sha256!r} is not a sha256; expected 64 hexadecimal digits"
        )
    return value


def chunks(stream: BinaryIO) -> Iterator[bytes]:
    while block := stream.read(CHUNK):
        yield block


def verify(sha256: str, digest: str, size: int, where: str) -> None:
    if digest != sha256:
        raise ArtifactCorruptedError(
            f"artifact {sha256} at {where} is corrupted: its {size} bytes hash to {digest}; "
            "restore it from a copy or log it again"
        )


def copy_verified(stream: BinaryIO, out: BinaryIO, sha256: str, where: str) -> None:
    """Copy ``stream`` to ``out`` while hashing it; raise naming the object if the bytes
    do not hash to ``sha256``."""
    digest = new_hash()
    size = 0
    for block in chunks(stream):
        digest.update(block)
        out.write(block)
        size += len(block)
    verify(check_sha(sha256), digest.hexdigest(), size, where)


def new_hash() -> hashlib._Hash:
    return hashlib.sha256()


def write_atomically(dest: Path, fill: Callable[[BinaryIO], None]) -> Path:
    """Create ``dest`` by ``fill``-ing a temporary file beside it, then renaming it:
    a reader never sees a partial file, and nothing is left behind on failure."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".kiln-")
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
        os.replace(tmp_name, dest)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return dest
