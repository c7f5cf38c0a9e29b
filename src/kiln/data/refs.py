"""Dataset references: ``NAME``, ``NAME@3``, ``NAME@latest``."""

from __future__ import annotations

import re

from kiln.exceptions import InvalidArgumentError

_REF = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-/]*)(?:@(?P<version>latest|[0-9]+))?$")
ACCEPTED = "NAME, NAME@<version number> or NAME@latest"


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``(name, version)``; version ``None`` means the latest."""
    m = _REF.match(ref.strip()) if isinstance(ref, str) else None
    if m is None:
        raise InvalidArgumentError(f"dataset reference {ref!r} is not valid; accepted: {ACCEPTED}")
    version = m.group("version")
    if version is None or version == "latest":
        return m.group("name"), None
    number = int(version)
    if number < 1:
        raise InvalidArgumentError(
            f"dataset reference {ref!r} names version {number}; versions start at 1"
        )
    return m.group("name"), number


def check_name(name: str) -> str:
    """``name`` if it can name a dataset, else an error saying what is accepted."""
    if not isinstance(name, str) or not _REF.match(name) or "@" in name:
        raise InvalidArgumentError(
            f"dataset name {name!r} is not valid; accepted: letters, digits, '_', '-', '.', '/' "
            "(starting with a letter or digit)"
        )
    return name
