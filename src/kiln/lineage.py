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
    from kiln.entities import Deployment, LineageEdge
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
         depth: int = 10, *, derived: bool = False) -> LineageNode:
    """The tree of objects upstream (``up``: what it was made from) or downstream of a node.

    With ``derived``, links kept elsewhere than in edges are walked too: a pipeline run
    and its step runs, a deployment and the model versions its routes serve now
    (see :func:`derived_edges`)."""
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
            if derived:
                edges = edges + derived_edges(store, node.kind, node.object_id, direction)
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


def derived_edges(store: MetadataStore, kind: str, object_id: str, direction: Direction
                  ) -> list[LineageEdge]:
    """Edges that follow from other records: ``run`` → its step runs (``step``), and
    ``model_version`` → the ``deployment`` whose routes serve it now (``serves``, or
    ``shadows`` for a shadow route). Unknown objects have none."""
    from kiln.entities import LineageEdge
    from kiln.exceptions import NotFoundError
    from kiln.metadata.base import RunQuery

    try:
        if kind == "run":
            if direction == "up":
                parent = store.get_run(object_id).parent_run_id
                return [LineageEdge("run", parent, "run", object_id, "step", 0)] if parent else []
            steps = store.search_runs(RunQuery(parent_run_id=object_id, max_results=MAX_NODES))
            return [LineageEdge("run", object_id, "run", r.run_id, "step", 0) for r in steps]
        if kind == "deployment" and direction == "up":
            return [LineageEdge("model_version", version, "deployment", object_id, rel, 0)
                    for version, rel in _served(store, store.get_deployment(object_id))]
        if kind == "model_version" and direction == "down":
            return [LineageEdge("model_version", object_id, "deployment", d.name, rel, 0)
                    for d in store.list_deployments()
                    for version, rel in _served(store, d) if version == object_id]
    except NotFoundError:
        return []
    return []


def _served(store: MetadataStore, deployment: Deployment) -> list[tuple[str, str]]:
    """``(NAME/VERSION, relation)`` of every route of ``deployment`` that resolves now."""
    from kiln.exceptions import NotFoundError

    out = []
    for routes, relation in ((deployment.routes, "serves"), (deployment.shadows, "shadows")):
        for route in routes:
            try:
                version = (store.get_alias(route.model, route.alias) if route.alias
                           else store.get_model_version(route.model, route.version or 0).version)
            except NotFoundError:
                continue
            out.append((f"{route.model}/{version}", relation))
    return out
