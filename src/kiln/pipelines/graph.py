"""The pipeline graph: nodes (step calls), the outputs they pass, and its order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.pipelines.dsl import Step


@dataclass(frozen=True)
class Output:
    """A placeholder for output ``index`` of node ``node_id``, known once that node has run."""

    node_id: str
    index: int = 0
    annotation: Any = None

    def __iter__(self) -> Any:
        raise InvalidArgumentError(
            f"the output of step {self.node_id!r} is a single value and cannot be unpacked; "
            "annotate the step's return as tuple[...] or pass outputs=N to @step")

    def __bool__(self) -> bool:
        raise InvalidArgumentError(
            f"the output of step {self.node_id!r} is not known while the graph is built; "
            "branch on pipeline parameters, or inside a step")


@dataclass
class Node:
    """One call of a step: its arguments may hold :class:`Output` placeholders."""

    node_id: str
    step: Step
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    upstream: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.upstream:
            self.upstream = list(dict.fromkeys(o.node_id for o in outputs_in((self.args,
                                                                              self.kwargs))))


def outputs_in(value: Any) -> list[Output]:
    """Every placeholder inside ``value`` (lists, tuples and dict values are searched)."""
    if isinstance(value, Output):
        return [value]
    if isinstance(value, list | tuple):
        return [o for v in value for o in outputs_in(v)]
    if isinstance(value, dict):
        return [o for v in value.values() for o in outputs_in(v)]
    return []


def substitute(value: Any, resolve: Any, kind: type = Output) -> Any:
    """``value`` with every ``kind`` (placeholder) inside replaced by ``resolve(it)``."""
    if isinstance(value, kind):
        return resolve(value)
    if isinstance(value, list):
        return [substitute(v, resolve, kind) for v in value]
    if isinstance(value, tuple):
        return tuple(substitute(v, resolve, kind) for v in value)
    if isinstance(value, dict):
        return {k: substitute(v, resolve, kind) for k, v in value.items()}
    return value


class Graph:
    """Nodes by id in call order, with the pipeline's resolved parameters."""

    def __init__(self, name: str, nodes: dict[str, Node], params: dict[str, Any]) -> None:
        self.name = name
        self.nodes = nodes
        self.params = params
        self.dependants: dict[str, list[str]] = {n: [] for n in nodes}
        for node in nodes.values():
            for up in node.upstream:
                if up in self.dependants:
                    self.dependants[up].append(node.node_id)

    def validate(self) -> list[str]:
        """The node ids in dependency order; raises naming a cycle or an unknown input."""
        for node in self.nodes.values():
            for up in node.upstream:
                if up not in self.nodes:
                    raise InvalidArgumentError(
                        f"step {node.node_id!r} uses the output of {up!r}, which is not a step "
                        f"of pipeline {self.name!r}")
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done

        def visit(node_id: str, path: list[str]) -> None:
            if state.get(node_id) == 2:
                return
            if state.get(node_id) == 1:
                cycle = [*path[path.index(node_id):], node_id]
                raise InvalidArgumentError(
                    f"pipeline {self.name!r} has a cycle: {' -> '.join(cycle)}; steps must "
                    "form a DAG")
            state[node_id] = 1
            for up in self.nodes[node_id].upstream:
                visit(up, [*path, node_id])
            state[node_id] = 2
            order.append(node_id)

        for node_id in self.nodes:
            visit(node_id, [])
        return order

    def ancestors(self, node_ids: Iterable[str]) -> set[str]:
        """``node_ids`` and everything they depend on."""
        seen: set[str] = set()
        stack = list(node_ids)
        while stack:
            nid = stack.pop()
            if nid in seen:
                continue
            if nid not in self.nodes:
                raise InvalidArgumentError(
                    f"pipeline {self.name!r} has no step {nid!r}; steps: "
                    f"{', '.join(self.nodes)}")
            seen.add(nid)
            stack.extend(self.nodes[nid].upstream)
        return seen

    def descendants(self, node_id: str) -> set[str]:
        """Every node that depends, directly or not, on ``node_id``."""
        seen: set[str] = set()
        stack = list(self.dependants.get(node_id, []))
        while stack:
            nid = stack.pop()
            if nid not in seen:
                seen.add(nid)
                stack.extend(self.dependants[nid])
        return seen
