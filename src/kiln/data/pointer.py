"""Pointer files: ``PATH.kiln``, a few lines of YAML meant to be committed to git.

They name the dataset version and its tree, so ``kiln data pull`` can restore
the data from the artifact store alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln.exceptions import InvalidArgumentError, NotFoundError

POINTER_KIND = "kiln.data/v1"
SUFFIX = ".kiln"
_FIELDS = ("name", "version", "tree", "type", "size", "files")


@dataclass(frozen=True, slots=True)
class Pointer:
    """The content of a pointer file; ``path`` is the data it points at."""

    name: str
    version: int
    tree: str
    kind: str
    size: int
    files: int
    path: Path

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def pointer_path(data_path: Path) -> Path:
    """``data/train.parquet`` → ``data/train.parquet.kiln``; ``images/`` → ``images.kiln``."""
    data_path = Path(data_path)
    return data_path.parent / (data_path.name + SUFFIX)


def write_pointer(data_path: Path, *, name: str, version: int, tree: str, kind: str, size: int,
                  files: int) -> Path:
    """Write the pointer next to ``data_path`` (atomically) and return its path."""
    import os

    import yaml

    target = pointer_path(data_path)
    body = {
        "kind": POINTER_KIND,
        "name": name,
        "version": version,
        "tree": tree,
        "type": kind,
        "path": Path(data_path).name,
        "size": size,
        "files": files,
    }
    text = (
        "# kiln data pointer: commit this file; `kiln data pull` restores the data.\n"
        + yaml.safe_dump(body, sort_keys=False)
    )
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, target)
    return target


def read_pointer(path: Path) -> Pointer:
    """Parse a pointer file; anything malformed is one clear error naming the file."""
    import yaml

    path = Path(path)
    if not path.name.endswith(SUFFIX):
        path = pointer_path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise NotFoundError(
            f"pointer file {str(path)!r} does not exist; `kiln data add PATH` writes one"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"pointer file {str(path)!r} cannot be read: {exc}") from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    problem = _problem(data)
    if problem:
        raise InvalidArgumentError(
            f"pointer file {str(path)!r} is corrupted ({problem}); expected YAML with kind "
            f"{POINTER_KIND!r} and {', '.join(_FIELDS)} — restore it from git"
        )
    rel = str(data.get("path") or path.name[: -len(SUFFIX)])
    if "/" in rel or rel in ("", ".", ".."):
        raise InvalidArgumentError(
            f"pointer file {str(path)!r} is corrupted (path {rel!r} is not a plain name); "
            "restore it from git"
        )
    return Pointer(
        name=str(data["name"]),
        version=int(data["version"]),
        tree=str(data["tree"]),
        kind=str(data["type"]),
        size=int(data["size"]),
        files=int(data["files"]),
        path=path.parent / rel,
    )


def _problem(data: Any) -> str:
    import re

    if not isinstance(data, dict):
        return "not a YAML mapping"
    if data.get("kind") != POINTER_KIND:
        return f"kind is {data.get('kind')!r}"
    for key in ("name", "version", "tree", "type", "size", "files"):
        if key not in data:
            return f"no {key!r}"
    if not isinstance(data["version"], int) or data["version"] < 1:
        return f"version {data['version']!r} is not a positive integer"
    if not isinstance(data["tree"], str) or not re.fullmatch(r"[0-9a-f]{64}", data["tree"]):
        return f"tree {data['tree']!r} is not a sha256"
    if data["type"] not in ("file", "directory"):
        return f"type {data['type']!r} is not file or directory"
    return ""


def find_pointers(root: Path) -> list[Path]:
    """Every ``*.kiln`` pointer file under ``root`` (skipping ``.git`` and kiln homes)."""
    import os

    found: list[Path] = []
    for top, dirs, files in os.walk(root):
        # A tracked folder (``images/`` beside ``images.kiln``) is not walked: it may hold
        # hundreds of thousands of files, and pointers inside it would be its own data.
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules",)
                   and d + SUFFIX not in files]
        for f in files:
            if f.endswith(SUFFIX):
                found.append(Path(top) / f)
    return sorted(found)
