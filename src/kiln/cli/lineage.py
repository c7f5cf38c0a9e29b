"""``kiln lineage``: what an object was made from, and what was made from it."""

from __future__ import annotations

import click

from kiln.cli._output import emit_json, json_option
from kiln.cli._ws import workspace


@click.command()
@click.argument("ref")
@click.option("--depth", default=10, show_default=True, type=click.IntRange(1, 50))
@json_option
def lineage(ref: str, depth: int, as_json: bool) -> None:
    """Walk the lineage of REF both ways (run id, KIND:ID, or models:/NAME@ALIAS)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.tree import Tree

    from kiln.lineage import LineageNode, parse_node, walk

    ws = workspace()
    if ref.startswith("models:/"):
        mv = ws.get_model_version_by_uri(ref)
        kind, object_id = "model_version", f"{mv.name}/{mv.version}"
    else:
        kind, object_id = parse_node(ref)
        # Known kinds are checked, so a typo is one clear line rather than an empty tree.
        if kind == "run":
            ws.get_run(object_id)
        elif kind == "model_version":
            name, _, version = object_id.rpartition("/")
            ws.get_model_version(name, version)
    up = walk(ws.store, kind, object_id, "up", depth)
    down = walk(ws.store, kind, object_id, "down", depth)
    if as_json:
        emit_json({"node": {"kind": kind, "id": object_id}, "upstream": up.to_dict()["children"],
                   "downstream": down.to_dict()["children"]})
        return

    def add(tree: Tree, node: LineageNode, arrow: str) -> None:
        for child in node.children:
            label = escape(f"{child.kind}:{child.object_id}")
            add(tree.add(f"{arrow} [dim]{escape(child.relation)}[/] {label}"),
                child, arrow)

    console = Console(emoji=False)
    for title, root, arrow in (("made from", up, "←"), ("used by", down, "→")):
        tree = Tree(f"[bold]{escape(f'{kind}:{object_id}')}[/] {title}")
        add(tree, root, arrow)
        if not root.children:
            tree.add("[dim](nothing recorded)[/]")
        console.print(tree)
