"""Artifact stores: content-addressed bytes, a local folder by default or any fsspec URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln._plugins import load_plugin

if TYPE_CHECKING:
    from kiln.artifacts.base import ArtifactStore

BACKENDS = {
    "file": "kiln.artifacts.local:LocalArtifactStore",
    "fsspec": "kiln.artifacts.fsspec:FsspecArtifactStore",
    "kiln-server": "kiln.artifacts.http:HttpArtifactStore",
}


def open_artifact_store(url: str) -> ArtifactStore:
    """A folder path or ``file://`` URL opens the local store; any other URL goes to fsspec."""
    if "://" not in url or url.startswith("file://"):
        cls = load_plugin("kiln.artifact_stores", BACKENDS, "file", what="artifact store")
        store: ArtifactStore = cls(url.removeprefix("file://"))
        return store
    scheme = url.split("://", 1)[0]
    name = scheme if scheme in BACKENDS else "fsspec"
    cls = load_plugin("kiln.artifact_stores", BACKENDS, name, what="artifact store")
    store = cls(url)
    return store
