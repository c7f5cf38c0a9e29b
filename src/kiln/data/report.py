"""A self-contained HTML validation report: anomaly table and, per column, inline SVG
plots of the batch against the reference (no scripts, no network)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from kiln.data.validation import ValidationReport

_W, _H, _BINS = 360, 140, 30
_CUR, _REF = "#d9480f", "#1c7ed6"


def render_html(report: ValidationReport, current: pd.DataFrame,
                reference: pd.DataFrame | None = None, title: str = "Validation report") -> str:
    """The report as one HTML page; plots compare ``current`` with ``reference``."""
    from kiln.data.schema import column_type

    verdict = "passed" if report.ok else "failed"
    rows = "".join(
        f"<tr class={a.severity}><td>{a.severity}</td><td>{_e(a.kind)}</td>"
        f"<td>{_e(a.column or '')}</td><td>{_e(a.observed)}</td><td>{_e(a.expected)}</td>"
        f"<td>{_e(a.message)}</td></tr>"
        for a in report.anomalies
    ) or "<tr><td colspan=6>no anomalies</td></tr>"
    drift = {d.column: d for d in report.drift}
    plots = []
    for name in current.columns:
        col = str(name)
        ref = reference[col] if reference is not None and col in reference.columns else None
        kind = column_type(current[col])
        if kind in ("int", "float"):
            svg = _histogram(current[col], ref)
        elif kind in ("string", "category", "bool"):
            svg = _bars(current[col], ref)
        else:
            continue
        d = drift.get(col)
        note = (f"{d.test}: statistic {d.statistic:.3g}, p={d.p_value:.2g}"
                + (f", PSI {d.psi:.3g}" if d.psi is not None else "")
                + (" — <b>drifted</b>" if d.drifted else "")) if d else ""
        plots.append(f"<figure><figcaption><b>{_e(col)}</b> ({kind}) {note}</figcaption>"
                     f"{svg}</figure>")
    legend = (f"<p><span style='color:{_CUR}'>■ batch</span> "
              f"<span style='color:{_REF}'>■ reference</span></p>") if reference is not None \
        else ""
    return (
        "<!doctype html><meta charset=utf-8>"
        f"<title>{_e(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "tr.error td:first-child{color:#c92a2a;font-weight:bold}"
        "tr.warning td:first-child{color:#e67700}"
        "figure{display:inline-block;margin:8px}</style>"
        f"<h1>{_e(title)}: {verdict}</h1>"
        f"<p>{report.rows} rows &times; {report.columns} columns; {len(report.errors)} errors, "
        f"{len(report.warnings)} warnings.</p>"
        "<table><tr><th>severity</th><th>kind</th><th>column</th><th>observed</th>"
        f"<th>expected</th><th>message</th></tr>{rows}</table>"
        f"<h2>Distributions</h2>{legend}{''.join(plots)}"
    )


def _e(value: Any) -> str:
    return html.escape(str(value))


def _numeric(s: pd.Series) -> np.ndarray:
    import numpy as np

    from kiln.data.columns import numeric, sample_index

    v = numeric(s)
    idx = sample_index(v.size)
    v = v if idx is None else v[idx]
    out: np.ndarray = v[~np.isnan(v)]
    return out


def _histogram(cur: pd.Series, ref: pd.Series | None) -> str:
    import numpy as np

    a = _numeric(cur)
    b = _numeric(ref) if ref is not None else np.array([])
    both = np.concatenate([a, b])
    if not both.size:
        return "<p>no values</p>"
    lo, hi = float(both.min()), float(both.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1, _BINS + 1)
    series = [(np.histogram(a, edges)[0] / max(a.size, 1), _CUR)]
    if b.size:
        series.insert(0, (np.histogram(b, edges)[0] / b.size, _REF))
    return _svg(series, f"{lo:.4g}", f"{hi:.4g}")


def _bars(cur: pd.Series, ref: pd.Series | None) -> str:
    import numpy as np

    from kiln.data.columns import value_counts

    cv, cc = value_counts(cur)
    keys = list(cv)
    rv: list[Any] = []
    rc = np.array([])
    if ref is not None:
        rv, rc = value_counts(ref)
        keys = list(dict.fromkeys([*rv, *cv]))
    keys = keys[:_BINS]

    def share(values: list[Any], counts: np.ndarray) -> np.ndarray:
        pos = dict(zip(values, counts, strict=True))
        total = max(int(counts.sum()), 1)
        return np.array([pos.get(k, 0) / total for k in keys], dtype=float)

    series = [(share(cv, cc), _CUR)]
    if ref is not None:
        series.insert(0, (share(rv, rc), _REF))
    first = str(keys[0]) if keys else ""
    last = str(keys[-1]) if keys else ""
    return _svg(series, first, last)


def _svg(series: list[tuple[np.ndarray, str]], left: str, right: str) -> str:
    top = max(float(s.max()) for s, _ in series if s.size) or 1.0
    n = len(series[0][0])
    slot = _W / max(n, 1)
    width = slot / len(series) * 0.9
    rects = []
    for k, (values, color) in enumerate(series):
        for i, v in enumerate(values):
            h = float(v) / top * (_H - 20)
            x = i * slot + k * width
            rects.append(f"<rect x='{x:.1f}' y='{_H - 16 - h:.1f}' width='{width:.1f}' "
                         f"height='{h:.1f}' fill='{color}' fill-opacity='0.8'/>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{_W}' height='{_H}'>"
            f"{''.join(rects)}<text x='0' y='{_H - 2}' font-size='10'>{_e(left)}</text>"
            f"<text x='{_W}' y='{_H - 2}' font-size='10' text-anchor='end'>{_e(right)}</text>"
            "</svg>")
