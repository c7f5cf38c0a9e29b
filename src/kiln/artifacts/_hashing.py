"""Streaming sha256 helpers shared by the artifact stores."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
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


def new_hash() -> hashlib._Hash:
    return hashlib.sha256()
