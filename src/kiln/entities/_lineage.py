"""Lineage: every object is a node ``(kind, id)``, every use an edge."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """``src`` was used to make ``dst``; ``relation`` says how (``produced``, ``input``...)."""

    src_kind: str
    src_id: str
    dst_kind: str
    dst_id: str
    relation: str
    created_at: int
