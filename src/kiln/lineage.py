"""Walk the lineage graph: every object is a node ``(kind, id)``, every use an edge.

>>> # kiln lineage model_version:churn-clf/3   (or a run id, models:/churn-clf@production)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.entities import LineageEdge
    from kiln.metadata.base import MetadataStore

Direction = Literal["up", "down"]
MAX_NODES = 500
_produced: ContextVar[list[tuple[str, str]] | None] = ContextVar("kiln_produced", default=None)


@contextmanager
def recording_outputs() -> Iterator[list[tuple[str, str]]]:
    """Collect the ``(kind, id)`` of objects produced inside the block (a pipeline step:
    the model versions it registers become outputs of its pipeline run too)."""
    found: list[tuple[str, str]] = []
    token = _produced.set(found)
    try:
        yield found
    finally:
        _produced.reset(token)


def note_output(kind: str, object_id: str) -> None:
    """Tell an enclosing :func:`recording_outputs` block that ``kind:object_id`` was made."""
    found = _produced.get()
    if found is not None:
        found.append((kind, object_id))


@dataclass
class LineageNode:
    """One object in a lineage walk, with the edges that lead on from it."""

    kind: str
    object_id: str
    relation: str = ""
    children: list[LineageNode] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "id": self.object_id, "relation": self.relation,
                "children": [c.to_dict() for c in self.children]}


def parse_node(ref: str) -> tuple[str, str]:
    """``KIND:ID`` (``run:abc``, ``model_version:clf/3``) or a bare run id."""
    kind, sep, object_id = ref.partition(":")
    if sep and kind and object_id and "/" not in kind:
        return kind, object_id
    if ref and ":" not in ref:
        return "run", ref
    raise InvalidArgumentError(
        f"lineage reference {ref!r} is not accepted; use KIND:ID such as run:<id>, "
        "model_version:NAME/VERSION, dataset_version:NAME/VERSION, or models:/NAME@ALIAS"
    )


def walk(store: MetadataStore, kind: str, object_id: str, direction: Direction,
         depth: int = 10) -> LineageNode:
    """The tree of objects upstream (``up``: what it was made from) or downstream of a node."""
    root = LineageNode(kind, object_id)
    seen = {(kind, object_id)}
    frontier = [root]
    for _ in range(depth):
        nxt: list[LineageNode] = []
        for node in frontier:
            edges: list[LineageEdge] = (
                store.edges_to(node.kind, node.object_id) if direction == "up"
                else store.edges_from(node.kind, node.object_id)
            )
            for e in edges:
                key = (e.src_kind, e.src_id) if direction == "up" else (e.dst_kind, e.dst_id)
                if key in seen or len(seen) >= MAX_NODES:
                    continue
                seen.add(key)
                child = LineageNode(key[0], key[1], e.relation)
                node.children.append(child)
                nxt.append(child)
        if not nxt:
            break
        frontier = nxt
    return root
