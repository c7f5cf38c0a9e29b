"""Directories in the artifact store: each file stored by content, plus a JSON manifest.

A tree's id is the sha256 of its manifest, so equal directories get equal ids
and unchanged files are stored once across versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.exceptions import ArtifactCorruptedError

if TYPE_CHECKING:
    from kiln.artifacts.base import ArtifactStore, StoredObject

MANIFEST_KIND = "kiln.tree/v1"


def put_tree(store: ArtifactStore, directory: Path) -> StoredObject:
    """Store every file under ``directory`` and its manifest; return the manifest's object."""
    directory = Path(directory)
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        obj = store.put_file(path)
        files[path.relative_to(directory).as_posix()] = {"sha256": obj.sha256, "size": obj.size}
    manifest = json.dumps({"kind": MANIFEST_KIND, "files": files}, sort_keys=True).encode()
    return store.put_bytes(manifest)


def read_manifest(store: ArtifactStore, sha256: str) -> dict[str, dict[str, Any]]:
    """The ``{relative path: {"sha256", "size"}}`` table of a stored tree."""
    try:
        manifest = json.loads(store.get_bytes(sha256))
    except json.JSONDecodeError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND:
        raise ArtifactCorruptedError(f"artifact {sha256} is not a kiln tree manifest")
    files: dict[str, dict[str, Any]] = manifest["files"]
    return files


def get_tree(store: ArtifactStore, sha256: str, dest: Path) -> Path:
    """Write the tree into ``dest``, verifying every file's hash."""
    dest = Path(dest)
    for rel, entry in read_manifest(store, sha256).items():
        target = dest / rel
        if dest.resolve() not in target.resolve().parents:
            raise ArtifactCorruptedError(f"tree {sha256} names a path outside it: {rel!r}")
        store.get_file(entry["sha256"], target)
    return dest
