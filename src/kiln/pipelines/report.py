"""Showing a pipeline run: its steps as a terminal tree and as an HTML picture (inline SVG)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from rich.tree import Tree

    from kiln.entities import Run
    from kiln.metadata.base import TrackingStore
    from kiln.workspace import Workspace

_COLORS = {"FINISHED": "green", "CACHED": "cyan", "FAILED": "red", "SKIPPED": "yellow",
           "RUNNING": "blue"}
_FILL = {"FINISHED": "#c8e6c9", "CACHED": "#b2ebf2", "FAILED": "#ffcdd2", "SKIPPED": "#fff9c4",
         "RUNNING": "#bbdefb"}


def run_graph(ws: Workspace, run: Run) -> dict[str, Any]:
    """The run and its steps (status, duration, upstream) as plain data."""
    return store_run_graph(ws.store, run)


def store_run_graph(store: TrackingStore, run: Run) -> dict[str, Any]:
    """:func:`run_graph` read straight from a metadata store (the server's pages)."""
    from kiln.metadata.base import RunQuery
    from kiln.metadata.filters import parse_order_by
    from kiln.pipelines.runner import PIPELINE_TAG

    if run.tags.get(PIPELINE_TAG) != "pipeline":
        raise InvalidArgumentError(f"run {run.run_id} is not a pipeline run; give a run id "
                                   "from `kiln pipeline runs`")
    children = store.search_runs(RunQuery(order_by=parse_order_by("start_time ASC"),
                                          max_results=100_000, parent_run_id=run.run_id))
    steps = []
    for r in (c for c in children if c.tags.get(PIPELINE_TAG) == "step"):
        status = r.status.value
        if r.tags.get("kiln.cached") == "true":
            status = "CACHED"
        elif r.tags.get("kiln.skipped") == "true":
            status = "SKIPPED"
        upstream = [u for u in r.tags.get("kiln.upstream", "").split(",") if u]
        steps.append({"step": r.name, "run_id": r.run_id, "status": status,
                      "duration_ms": (r.end_time - r.start_time) if r.end_time else None,
                      "upstream": upstream, "error": r.error,
                      "attempts": int(r.tags.get("kiln.attempts", "0") or 0),
                      "timed_out": r.tags.get("kiln.timed_out") == "true"})
    return {"run_id": run.run_id, "pipeline": run.tags.get("kiln.pipeline", run.name),
            "status": run.status.value, "executor": run.tags.get("kiln.executor"),
            "duration_ms": (run.end_time - run.start_time) if run.end_time else None,
            "error": run.error, "steps": steps}


def _label(step: dict[str, Any]) -> str:
    color = _COLORS.get(step["status"], "white")
    dur = "" if step["duration_ms"] is None else f" {step['duration_ms']} ms"
    extra = f"  [dim]{html.escape(step['error'])[:80]}[/]" if step.get("error") else ""
    return f"[bold]{step['step']}[/] [{color}]{step['status']}[/]{dur}{extra}"


def render_tree(graph: dict[str, Any]) -> Tree:
    """A rich tree: each step under the first step it depends on."""
    from rich.tree import Tree

    dur = "" if graph["duration_ms"] is None else f" in {graph['duration_ms'] / 1000:.2f}s"
    root = Tree(f"[bold]{graph['pipeline']}[/] {graph['run_id']} "
                f"[{_COLORS.get(graph['status'], 'white')}]{graph['status']}[/]{dur}")
    nodes: dict[str, Tree] = {}
    for step in graph["steps"]:
        ups = [u for u in step["upstream"] if u in nodes]
        parent = nodes[ups[0]] if ups else root
        label = _label(step)
        if len(ups) > 1:
            label += f" [dim](also after {', '.join(ups[1:])})[/]"
        nodes[step["step"]] = parent.add(label)
    return root


def render_html(graph: dict[str, Any]) -> str:
    """A standalone HTML page with the step graph drawn as SVG, columns by depth."""
    title = html.escape(f"{graph['pipeline']} {graph['run_id']}")
    return (f"<!doctype html><meta charset=utf-8><title>{title}</title>"
            f"<h1>{title}</h1><p>status {graph['status']}</p>{render_svg(graph)}")


def render_svg(graph: dict[str, Any]) -> str:
    """The step graph as inline SVG: columns by depth, each box a step with its status
    (colour) and duration, arrows from the steps it depends on."""
    depth: dict[str, int] = {}
    for step in graph["steps"]:
        depth[step["step"]] = 1 + max((depth.get(u, 0) for u in step["upstream"]), default=-1)
    columns: dict[int, list[str]] = {}
    for name, d in depth.items():
        columns.setdefault(d, []).append(name)
    w, h, gx, gy = 170, 46, 60, 20
    pos = {name: (20 + d * (w + gx), 20 + i * (h + gy))
           for d, names in columns.items() for i, name in enumerate(names)}
    width = 40 + (max(columns, default=0) + 1) * (w + gx)
    height = 40 + max((len(v) for v in columns.values()), default=1) * (h + gy)
    parts = []
    for step in graph["steps"]:
        x2, y2 = pos[step["step"]]
        for up in step["upstream"]:
            if up in pos:
                x1, y1 = pos[up]
                parts.append(f'<line x1="{x1 + w}" y1="{y1 + h / 2}" x2="{x2}" y2="{y2 + h / 2}" '
                             'stroke="#555" marker-end="url(#a)"/>')
    for step in graph["steps"]:
        x, y = pos[step["step"]]
        dur = "" if step["duration_ms"] is None else f" · {step['duration_ms']} ms"
        title = html.escape(step.get("error") or step["status"])
        parts.append(
            f'<g class="step" data-step="{html.escape(step["step"])}" '
            f'data-status="{step["status"]}"><title>{title}</title>'
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" '
            f'fill="{_FILL.get(step["status"], "#eee")}" stroke="#333"/>'
            f'<text x="{x + 8}" y="{y + 19}" font-weight="bold">{html.escape(step["step"])}'
            f'</text><text x="{x + 8}" y="{y + 37}">{step["status"]}{dur}</text></g>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           'font-family="sans-serif" font-size="12"><defs><marker id="a" markerWidth="8" '
           'markerHeight="8" refX="8" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" '
           'fill="#555"/></marker></defs>' + "".join(parts) + "</svg>")
    return svg
