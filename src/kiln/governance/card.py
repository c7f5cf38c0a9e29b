"""Model cards: what a version is for, what it was made from, how it did, who moved it where.

One card is built as a list of sections (text and tables), then rendered to
Markdown and to a self-contained HTML page with an inline-SVG importance plot
(no JavaScript, no network).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.entities import ModelVersion
    from kiln.workspace import Workspace

INTENDED_USE_TAGS = ("intended_use", "kiln.intended_use")
LIMITATIONS_TAGS = ("limitations", "kiln.limitations")


@dataclass
class Section:
    """A heading with paragraphs, an optional table and an optional SVG figure."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    svg: str = ""


def build_card(ws: Workspace, name: str, version: int | str) -> tuple[str, list[Section]]:
    """The card's title and sections for ``name`` version ``version``."""
    from kiln.governance.approvals import approvals
    from kiln.governance.evaluate import stored_evaluations
    from kiln.governance.promote import gate_history

    mv = ws.get_model_version(name, version)
    run = ws.get_run(mv.run_id) if mv.run_id else None
    tags = dict(run.tags) if run else {}
    sections = [_overview(mv), _written("Intended use", tags, INTENDED_USE_TAGS, mv.description),
                _written("Limitations", tags, LIMITATIONS_TAGS, "")]
    sections.append(_training_data(ws, mv))
    sections.append(_training(ws, mv, run))
    evaluations = stored_evaluations(ws, mv.name, mv.version)
    sections.extend(_evaluations(evaluations))
    sections.append(_gates(gate_history(ws, mv.name, mv.version),
                           approvals(ws, mv.name, mv.version)))
    sections.append(_lineage(ws, mv))
    sections.append(_aliases(ws, mv))
    return f"Model card: {mv.name} version {mv.version}", sections


def write_card(ws: Workspace, name: str, version: int | str, out_dir: Path
               ) -> tuple[Path, Path]:
    """Write ``NAME-vVERSION-card.md`` and ``.html`` into ``out_dir``; return both paths."""
    title, sections = build_card(ws, name, version)
    mv = ws.get_model_version(name, version)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{mv.name}-v{mv.version}-card"
    md, page = stem.with_suffix(".md"), stem.with_suffix(".html")
    md.write_text(to_markdown(title, sections))
    page.write_text(to_html(title, sections))
    return md, page


# -- sections -------------------------------------------------------------------------
def _overview(mv: ModelVersion) -> Section:
    from kiln.cli._output import fmt_time

    rows: list[list[Any]] = [["model", mv.name], ["version", mv.version], ["flavor", mv.flavor],
            ["registered", f"{fmt_time(mv.created_at)} UTC by {mv.user}"],
            ["aliases now", ", ".join(mv.aliases) or "none"],
            ["training run", mv.run_id or "none recorded"], ["artifact sha256", mv.artifact],
            ["inputs", ", ".join(mv.signature.input_columns[:12]) + (" ..." if mv.signature and
             len(mv.signature.input_columns) > 12 else "") if mv.signature else "no signature"]]
    return Section("Overview", [mv.description or "The version has no description."],
                   ["field", "value"], rows)


def _written(title: str, tags: dict[str, str], keys: tuple[str, ...], fallback: str
             ) -> Section:
    for key in keys:
        if tags.get(key):
            return Section(title, [tags[key]])
    if fallback:
        return Section(title, [f"From the version's description: {fallback}"])
    return Section(title, [f"**Not written.** Nobody has stated the {title.lower()} of this "
                           f"model: set the training run's tag `{keys[0]}` (or the version "
                           "description) before relying on it."])


def _training(ws: Workspace, mv: ModelVersion, run: Any) -> Section:
    section = Section("Training data and run")
    if run is None:
        section.paragraphs.append("No training run is recorded for this version.")
        return section
    inputs = ws.store.edges_to("run", run.run_id)
    section.paragraphs.append(
        f"Trained by run `{run.run_id}` ({run.name}) in experiment {run.experiment!r}; "
        f"git commit {run.tags.get('kiln.git.commit', run.tags.get('git_commit', 'unknown'))}."
    )
    others = [e for e in inputs if e.src_kind != "dataset_version"]
    if others:
        section.paragraphs.append("Other inputs: " + ", ".join(
            f"{e.src_kind} {e.src_id[:16]} ({e.relation})" for e in others[:20]))
    section.columns = ["param", "value"]
    section.rows = [[k, v] for k, v in sorted(run.params.items())]
    return section


def _training_data(ws: Workspace, mv: ModelVersion) -> Section:
    """The dataset versions the version was trained on (lineage), with their statistics
    from the data subsystem and their latest validation."""
    from kiln.data.validations import stored_validations
    from kiln.exceptions import NotFoundError
    from kiln.governance.training import training_datasets

    refs = training_datasets(ws, mv)
    section = Section("Training data versions")
    if not refs:
        section.paragraphs.append(
            "No dataset version is recorded as an input of the training run or its pipeline "
            "run: the training data is unknown (log it with `kiln.log_input(\"NAME@VERSION\")` "
            "or pass a dataset reference as a pipeline parameter).")
        return section
    section.columns = ["dataset version", "rows", "columns", "size", "schema",
                       "validation"]
    for ref in refs:
        try:
            dv = ws.dataset_version(ref)
        except (NotFoundError, ValueError):
            section.rows.append([ref, "", "", "", "version not found", ""])
            continue
        cols = (dv.schema or {}).get("columns") or []
        schema = ", ".join(f"{c.get('name')}: {c.get('type')}" for c in cols[:8]) + (
            f" ... ({len(cols)} in all)" if len(cols) > 8 else "")
        checks = stored_validations(ws, dv.ref)
        verdict = "not validated" if not checks else (
            f"{'passed' if checks[0].ok else 'FAILED'}: {checks[0].errors} errors, "
            f"{checks[0].warnings} warnings")
        section.rows.append([dv.ref, "" if dv.rows is None else dv.rows,
                             len(cols) if cols else "", _size(dv.size),
                             schema or f"{dv.kind}, {dv.file_count} file(s)", verdict])
    return section


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _evaluations(evaluations: list[Any]) -> list[Section]:
    if not evaluations:
        return [Section("Evaluation", ["No evaluation is stored for this version; run "
                                       "`kiln models evaluate` or `kiln.evaluate(...)`."])]
    latest: dict[str, Any] = {}
    for ev in evaluations:  # newest first: keep the newest per dataset
        latest.setdefault(ev.dataset, ev)
    out = []
    metric_names = sorted({m for ev in latest.values() for m in ev.metrics})
    out.append(Section("Evaluation results", [
        "Overall figures per evaluation dataset (newest evaluation of each)."],
        ["dataset", "rows", *metric_names],
        [[ev.dataset, ev.rows, *[_num(ev.metrics.get(m)) for m in metric_names]]
         for ev in latest.values()]))
    slice_rows = [[ev.dataset, attr, value, int(f.get("count", 0)),
                   *[_num(f.get(m)) for m in metric_names]]
                  for ev in latest.values() for attr, values in ev.slices.items()
                  for value, f in values.items()]
    if slice_rows:
        out.append(Section("Results per slice", [], ["dataset", "attribute", "value", "rows",
                                                     *metric_names], slice_rows))
    fair_rows = [[ev.dataset, attr, _num(f["demographic_parity_difference"]),
                  _num(f["equalized_odds_difference"])]
                 for ev in latest.values() for attr, f in ev.fairness.items()]
    out.append(Section("Fairness", [] if fair_rows else [
        "No sensitive attribute was evaluated: fairness is unknown, not fine."],
        ["dataset", "attribute", "demographic parity difference",
         "equalized odds difference"] if fair_rows else [], fair_rows))
    imp = next((ev for ev in evaluations if ev.importance), None)
    if imp is None:
        out.append(Section("Feature importance", ["No feature importance is stored."]))
    else:
        top = list(imp.importance.items())[:15]
        how = ("Mean absolute SHAP value on {d}: how far each column moves the model's "
               "score, on average (top 15)." if imp.importance_method == "shap" else
               "Permutation importance on {d}: the drop in the main score when a column is "
               "shuffled (top 15).")
        out.append(Section("Feature importance", [how.format(d=repr(imp.dataset))],
                           ["feature", "importance"], [[k, _num(v)] for k, v in top],
                           svg=importance_svg(top)))
    return out


def _gates(history: list[dict[str, Any]], approved: list[Any]) -> Section:
    section = Section("Promotion gates")
    if not history:
        section.paragraphs.append("This version has not been through a promotion gate.")
    for decision in history:
        state = ("FORCED despite failing checks" if decision.get("forced")
                 else "moved" if decision.get("moved") else "blocked")
        section.paragraphs.append(
            f"#{decision['seq']}: @{decision.get('alias')} by {decision['actor']}: {state} "
            f"(policy: {decision.get('policy')})")
    if history:
        section.columns = ["check", "figure", "threshold", "verdict"]
        section.rows = [[c["check"], c["figure"], c["threshold"],
                         "pass" if c["passed"] else "FAIL"] for c in history[-1]["checks"]]
    for a in approved:
        section.paragraphs.append(f"Approved as {a.role} by {a.actor}"
                                  + (f": {a.comment}" if a.comment else ""))
    return section


def _lineage(ws: Workspace, mv: ModelVersion) -> Section:
    node = f"{mv.name}/{mv.version}"
    rows = [[e.src_kind, e.src_id, e.relation, "this version"]
            for e in ws.store.edges_to("model_version", node)]
    rows += [["this version", "", e.relation, f"{e.dst_kind} {e.dst_id}"]
             for e in ws.store.edges_from("model_version", node)]
    return Section("Lineage", [] if rows else ["No lineage edges recorded."],
                   ["from", "id", "relation", "to"] if rows else [], rows)


def _aliases(ws: Workspace, mv: ModelVersion) -> Section:
    from kiln.cli._output import fmt_time

    rows = [[e.alias, e.from_version, e.to_version, e.user, fmt_time(e.timestamp)]
            for e in ws.alias_history(mv.name)]
    return Section("Deployment (alias) history", [] if rows else ["No alias was ever set."],
                   ["alias", "from", "to", "by", "time (UTC)"] if rows else [], rows)


# -- rendering ------------------------------------------------------------------------
def importance_svg(items: list[tuple[str, float]], width: int = 640) -> str:
    """A horizontal bar chart of importances as inline SVG."""
    if not items:
        return ""
    bar_h, label_w, pad = 18, 200, 4
    peak = max(abs(v) for _, v in items) or 1.0
    height = len(items) * (bar_h + pad) + pad
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'role="img" aria-label="feature importance" font-family="sans-serif" '
             'font-size="12">']
    for i, (name, value) in enumerate(items):
        y = pad + i * (bar_h + pad)
        w = max(1.0, abs(value) / peak * (width - label_w - 70))
        color = "#3b82f6" if value >= 0 else "#ef4444"
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">'
                     f"{html.escape(name[:30])}</text>")
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                     f'fill="{color}"/>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{value:.4f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_markdown(title: str, sections: list[Section]) -> str:
    """The card as Markdown."""
    lines = [f"# {title}", ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        for p in s.paragraphs:
            lines += [p, ""]
        if s.columns:
            lines.append("| " + " | ".join(s.columns) + " |")
            lines.append("|" + "---|" * len(s.columns))
            for row in s.rows:
                lines.append("| " + " | ".join(_md(c) for c in row) + " |")
            lines.append("")
        if s.svg:
            lines += ["(The HTML card shows this as a bar chart.)", ""]
    return "\n".join(lines)


def to_html(title: str, sections: list[Section]) -> str:
    """The card as one self-contained HTML page."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    for s in sections:
        body.append(f"<h2>{html.escape(s.title)}</h2>")
        for p in s.paragraphs:
            body.append(f"<p>{_inline(p)}</p>")
        if s.columns:
            head = "".join(f"<th>{html.escape(c)}</th>" for c in s.columns)
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r)
                           + "</tr>" for r in s.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        if s.svg:
            body.append(f"<figure>{s.svg}</figure>")
    style = ("body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#111}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
             "padding:3px 8px;text-align:left}th{background:#f3f4f6}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body>{''.join(body)}</body></html>")


def _inline(text: str) -> str:
    import re

    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def _md(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4g}"
    return str(value)
