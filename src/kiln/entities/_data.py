"""Records of data versions: one immutable snapshot of a file or a directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable version of a named dataset.

    ``tree`` is the sha256 of the snapshot's manifest in the artifact store
    (``kiln.artifacts.tree`` format); ``kind`` is ``"file"`` or ``"directory"``.
    ``rows`` and ``schema`` (a :meth:`kiln.data.Schema.to_dict`) are set for a
    single tabular file (Parquet, CSV, JSON lines).
    """

    name: str
    version: int
    tree: str
    kind: str
    size: int
    file_count: int
    rows: int | None
    schema: dict[str, Any] | None
    user: str
    created_at: int
    git_commit: str | None
    source: str
    description: str = ""

    @property
    def ref(self) -> str:
        """``NAME@VERSION``, the reference the CLI and ``kiln.data.load`` accept."""
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI's ``--json``)."""
        return {
            "name": self.name,
            "version": self.version,
            "tree": self.tree,
            "kind": self.kind,
            "size": self.size,
            "file_count": self.file_count,
            "rows": self.rows,
            "user": self.user,
            "created_at": self.created_at,
            "git_commit": self.git_commit,
            "source": self.source,
            "description": self.description,
            "schema": self.schema,
        }
