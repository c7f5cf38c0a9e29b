"""Differences between two dataset versions: files, and for tables schema and statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.entities import DatasetVersion

_STATS = ("null_fraction", "min", "max", "mean", "std", "distinct")


@dataclass
class DataDiff:
    """What changed from version ``a`` to version ``b``."""

    a: str
    b: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    rows: tuple[int | None, int | None] = (None, None)
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    type_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    stat_changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a, "b": self.b, "identical": self.identical,
            "files": {"added": self.added, "removed": self.removed, "changed": self.changed},
            "rows": {"a": self.rows[0], "b": self.rows[1]},
            "columns_added": self.columns_added, "columns_removed": self.columns_removed,
            "type_changes": {k: {"a": v[0], "b": v[1]} for k, v in self.type_changes.items()},
            "stat_changes": self.stat_changes,
        }


def diff_versions(a: DatasetVersion, b: DatasetVersion, files_a: dict[str, dict[str, Any]],
                  files_b: dict[str, dict[str, Any]]) -> DataDiff:
    """Compare two versions given their manifests (``{rel: {"sha256", "size"}}``)."""
    d = DataDiff(a.ref, b.ref, rows=(a.rows, b.rows))
    if a.kind == "file" and b.kind == "file":
        # One file each: compare contents whatever the file is called.
        ea, eb = next(iter(files_a.values())), next(iter(files_b.values()))
        if ea["sha256"] != eb["sha256"]:
            d.changed = [next(iter(files_b))]
    else:
        d.added = sorted(set(files_b) - set(files_a))
        d.removed = sorted(set(files_a) - set(files_b))
        d.changed = sorted(k for k in set(files_a) & set(files_b)
                           if files_a[k]["sha256"] != files_b[k]["sha256"])
    if a.schema and b.schema:
        _diff_schemas(d, a.schema, b.schema)
    return d


def _diff_schemas(d: DataDiff, sa: dict[str, Any], sb: dict[str, Any]) -> None:
    cols_a = {c["name"]: c for c in sa.get("columns", [])}
    cols_b = {c["name"]: c for c in sb.get("columns", [])}
    d.columns_added = [c for c in cols_b if c not in cols_a]
    d.columns_removed = [c for c in cols_a if c not in cols_b]
    for name in (c for c in cols_a if c in cols_b):
        ca, cb = cols_a[name], cols_b[name]
        if ca.get("type") != cb.get("type"):
            d.type_changes[name] = (ca.get("type", ""), cb.get("type", ""))
        for stat in _STATS:
            va, vb = ca.get(stat), cb.get(stat)
            if va != vb and not (va is None and vb is None):
                d.stat_changes.append({"column": name, "stat": stat, "a": va, "b": vb})
        cats_a, cats_b = ca.get("categories"), cb.get("categories")
        if cats_a is not None and cats_b is not None and cats_a != cats_b:
            new = [c for c in cats_b if c not in cats_a]
            gone = [c for c in cats_a if c not in cats_b]
            d.stat_changes.append({"column": name, "stat": "categories",
                                   "a": f"-{gone}" if gone else "", "b": f"+{new}" if new else ""})
