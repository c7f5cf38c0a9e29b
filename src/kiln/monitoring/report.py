"""One self-contained HTML report of a monitor: statistics over time and, per feature, the
window's distribution against the reference's, drawn with plotly.

It holds statistics only (histograms and figures, never rows), so its size does not
depend on how much traffic the windows saw. plotly.min.js from the installed plotly
package is inlined once; being 4.8 MB, it is stored gzip-compressed (Ascii85 text,
1.9 MB) and unpacked by the browser (``DecompressionStream``, in every current browser);
no network is used.

The input, one entry per window, oldest first (what a monitor keeps for each run)::

    WindowStats(start, end, drift, quality=None, performance=None, profile=None)

- ``start`` / ``end``: the window's bounds (ISO strings or datetimes);
- ``drift``: a :class:`~kiln.monitoring.drift.DriftResult` (or its ``to_dict()``);
- ``quality``: a :class:`~kiln.monitoring.quality.QualityResult` or ``None``;
- ``performance``: a :class:`~kiln.monitoring.performance.PerformanceResult` or ``None``;
- ``profile``: the window's :class:`~kiln.monitoring.profile.Profile` made against the
  reference (``Profile.from_frame(df, reference=ref)``), for the distribution plots.

A plain dict with those keys, or a tuple in that order, is accepted too.
"""

from __future__ import annotations

import base64
import functools
import html
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring.drift import DriftResult
from kiln.monitoring.performance import PerformanceResult
from kiln.monitoring.profile import ColumnProfile, Profile
from kiln.monitoring.quality import QualityResult

_REF, _CUR, _BAD = "#1c7ed6", "#d9480f", "#c92a2a"


@dataclass(frozen=True)
class WindowStats:
    """One window's statistics, as :func:`render_report` reads them."""

    start: str
    end: str
    drift: DriftResult | None
    quality: QualityResult | None = None
    performance: PerformanceResult | None = None
    profile: Profile | None = None

    @classmethod
    def of(cls, item: Any) -> WindowStats:
        """Accept a WindowStats, a dict with its field names, or a tuple in field order."""
        if isinstance(item, WindowStats):
            return item
        if isinstance(item, tuple | list):
            item = dict(zip(("start", "end", "drift", "quality", "performance", "profile"),
                            item, strict=False))
        if not isinstance(item, dict) or "start" not in item or "end" not in item:
            raise InvalidArgumentError(
                "a report window is a WindowStats, a dict or a tuple with at least "
                f"start and end; got {type(item).__name__}")
        return cls(_time(item["start"]), _time(item["end"]),
                   _load(item.get("drift"), DriftResult), _load(item.get("quality"), QualityResult),
                   _load(item.get("performance"), PerformanceResult),
                   _load(item.get("profile"), Profile))

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end,
                **{k: None if v is None else v.to_dict() for k, v in (
                    ("drift", self.drift), ("quality", self.quality),
                    ("performance", self.performance), ("profile", self.profile))}}


def render_report(windows: Sequence[Any], reference: Profile, path: str | Path, *,
                  title: str = "Monitoring report") -> Path:
    """Write the report to ``path`` (see the module docstring) and return the path."""
    if not isinstance(reference, Profile):
        raise InvalidArgumentError(
            f"reference must be a Profile, not {type(reference).__name__}")
    items = [WindowStats.of(w) for w in windows]
    figures: list[tuple[str, dict[str, Any]]] = []
    figures.append(("Share of drifted features", _over_time(
        items, {"share drifted": lambda w: w.drift.share_of_drifted_features if w.drift else None},
        threshold=items[-1].drift.drift_share if items and items[-1].drift else None)))
    metric_names = sorted({m for w in items if w.performance for m in w.performance.metrics})
    if metric_names:
        figures.append(("Performance", _over_time(items, {
            m: (lambda w, m=m: w.performance.metrics.get(m) if w.performance else None)
            for m in metric_names})))
    if any(w.quality for w in items):
        figures.append(("Data quality", _over_time(items, {
            "missing rate": lambda w: w.quality.missing_rate if w.quality else None,
            "out of range": lambda w: w.quality.share_out_of_range if w.quality else None,
            "unseen categories": lambda w: w.quality.share_unseen if w.quality else None})))
    latest = next((w.profile for w in reversed(items) if w.profile is not None), None)
    features = []
    for name, col in reference.columns.items():
        dist = _distribution(col, latest.columns.get(name) if latest else None)
        trend = _feature_trend(items, name)
        if dist is None and trend is None:
            continue
        verdict = _verdict(items, name)
        features.append((name, col.kind, verdict, dist, trend))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_page(title, items, reference, figures, features), encoding="utf-8")
    return path


def _page(title: str, items: list[WindowStats], reference: Profile,
          figures: list[tuple[str, dict[str, Any]]],
          features: list[tuple[str, str, str, dict[str, Any] | None,
                               dict[str, Any] | None]]) -> str:
    specs: list[tuple[str, dict[str, Any]]] = []
    blocks = []
    for i, (caption, fig) in enumerate(figures):
        specs.append((f"t{i}", fig))
        blocks.append(f"<h3>{_e(caption)}</h3><div id=t{i} class=plot></div>")
    feature_blocks = []
    for i, (name, kind, verdict, dist, trend) in enumerate(features):
        cells = ""
        for tag, spec in (("d", dist), ("s", trend)):
            if spec is not None:
                specs.append((f"{tag}{i}", spec))
                cells += f"<div id={tag}{i} class=plot></div>"
        feature_blocks.append(f"<section><h3>{_e(name)} <small>({_e(kind)})</small> "
                              f"{verdict}</h3><div class=row>{cells}</div></section>")
    rows = "".join(_summary_row(w) for w in items) or "<tr><td colspan=6>no windows</td></tr>"
    data = json.dumps(specs, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return (
        "<!doctype html><meta charset=utf-8>"
        f"<title>{_e(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        ".row{display:flex;flex-wrap:wrap}.plot{width:520px;height:300px}"
        f".drifted{{color:{_BAD};font-weight:bold}}</style>"
        f"<h1>{_e(title)}</h1><p>Reference: {reference.rows:,} rows, "
        f"{len(reference.columns)} columns. {len(items)} windows.</p>"
        "<p id=status>Unpacking the embedded plotly…</p>"
        "<table><tr><th>window</th><th>rows</th><th>drifted features</th>"
        f"<th>missing rate</th><th>labelled</th><th>metrics</th></tr>{rows}</table>"
        f"<h2>Statistics over time</h2>{''.join(blocks)}"
        f"<h2>Features</h2><p>Distribution: <span style='color:{_REF}'>■ reference</span> "
        f"<span style='color:{_CUR}'>■ latest window</span>; drift statistic per window "
        f"against its threshold.</p>{''.join(feature_blocks)}"
        f"<script id=plotly-a85 type=application/octet-stream>{plotly_payload()}</script>"
        f"<script id=figures type=application/json>{data}</script>"
        f"<script>{_LOADER}</script>"
    )


def _summary_row(w: WindowStats) -> str:
    d = w.drift
    if d is None:
        drift = "not computed"
    elif d.empty:
        drift = "<b>empty window</b>"
    else:
        cls = " class=drifted" if d.dataset_drift else ""
        drift = (f"<span{cls}>{d.number_of_drifted_features} of {len(d.columns)}</span> "
                 f"{_e(', '.join(d.drifted_columns))}")
    rows = d.n_current if d is not None else (w.quality.rows if w.quality else "")
    missing = w.quality.missing_rate if w.quality else None
    perf = w.performance
    metrics = ", ".join(f"{k} {v:.3g}" for k, v in perf.metrics.items()) if perf else ""
    return (f"<tr><td>{_e(w.start)} &ndash; {_e(w.end)}</td><td>{rows}</td><td>{drift}</td>"
            f"<td>{'' if missing is None else f'{missing:.2%}'}</td>"
            f"<td>{perf.n_labelled if perf else ''}</td><td>{_e(metrics)}</td></tr>")


def _over_time(items: list[WindowStats], series: dict[str, Any],
               threshold: float | None = None) -> dict[str, Any]:
    x = [w.end for w in items]
    traces = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": x,
               "y": [_r(f(w)) for w in items]} for name, f in series.items()]
    layout: dict[str, Any] = {"margin": {"t": 20, "r": 10, "b": 40, "l": 50},
                              "legend": {"orientation": "h"}}
    if threshold is not None:
        layout["shapes"] = [_hline(threshold)]
    return {"data": traces, "layout": layout}


def _feature_trend(items: list[WindowStats], name: str) -> dict[str, Any] | None:
    x, y, colors = [], [], []
    test, threshold = "", None
    for w in items:
        if w.drift is None or w.drift.empty:
            continue
        c = next((c for c in w.drift.columns if c.column == name and not c.empty), None)
        if c is None:
            continue
        x.append(w.end)
        y.append(_r(c.score))
        colors.append(_BAD if c.drifted else _REF)
        test, threshold = c.test, c.threshold
    if not x:
        return None
    label = "p-value" if any(w.drift and any(
        c.column == name and c.p_value is not None for c in w.drift.columns)
        for w in items) else test
    return {"data": [{"type": "scatter", "mode": "lines+markers", "name": f"{test} {label}",
                      "x": x, "y": y, "marker": {"color": colors}}],
            "layout": {"margin": {"t": 30, "r": 10, "b": 40, "l": 50},
                       "title": {"text": f"{test} per window", "font": {"size": 12}},
                       "shapes": [_hline(threshold)] if threshold is not None else []}}


def _distribution(ref: ColumnProfile, cur: ColumnProfile | None) -> dict[str, Any] | None:
    if ref.hist_counts is not None and ref.hist_edges is not None:
        edges = ref.hist_edges
        width = (edges[-1] - edges[0]) / max(len(edges) - 1, 1) or 1.0
        x = [edges[0] - width / 2] + [(a + b) / 2 for a, b in itertools.pairwise(edges)] + \
            [edges[-1] + width / 2]
        traces = [_bars("reference", x, ref.hist_counts, _REF)]
        if cur is not None and cur.hist_counts is not None and cur.hist_edges == edges:
            traces.append(_bars("latest window", x, cur.hist_counts, _CUR))
        return {"data": traces, "layout": {"barmode": "overlay", "bargap": 0,
                                           "margin": {"t": 20, "r": 10, "b": 40, "l": 50},
                                           "yaxis": {"title": {"text": "share"}}}}
    if ref.frequencies is None:
        return None
    labels = [str(v) for v, _ in ref.frequencies]
    cur_map = {str(v): c for v, c in (cur.frequencies or [])} if cur is not None else {}
    extra = [k for k in cur_map if k not in labels][:20]
    keys = labels + extra
    ref_counts = [c for _, c in ref.frequencies] + [0] * len(extra)
    cur_counts = [cur_map.get(k, 0) for k in keys] if cur is not None else []
    cur_rest = cur.valid - sum(cur_counts) if cur is not None else 0
    if ref.other or cur_rest:
        keys, ref_counts = [*keys, "(other)"], [*ref_counts, ref.other]
        cur_counts = [*cur_counts, cur_rest]
    traces = [_bars("reference", keys, ref_counts, _REF)]
    if cur is not None and cur.frequencies is not None:
        traces.append(_bars("latest window", keys, cur_counts, _CUR))
    return {"data": traces, "layout": {"barmode": "group",
                                       "margin": {"t": 20, "r": 10, "b": 60, "l": 50},
                                       "yaxis": {"title": {"text": "share"}}}}


def _bars(name: str, x: list[Any], counts: list[int], color: str) -> dict[str, Any]:
    total = sum(counts) or 1
    return {"type": "bar", "name": name, "x": [_r(v) if isinstance(v, float) else v for v in x],
            "y": [_r(c / total) for c in counts], "marker": {"color": color}, "opacity": 0.6}


def _verdict(items: list[WindowStats], name: str) -> str:
    for w in reversed(items):
        if w.drift is None or w.drift.empty:
            continue
        for c in w.drift.columns:
            if c.column == name and not c.empty:
                if c.drifted:
                    return f"<span class=drifted>drifted ({_e(c.test)})</span>"
                return f"<span>no drift ({_e(c.test)})</span>"
    return ""


def _hline(y: float) -> dict[str, Any]:
    return {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y,
            "line": {"color": _BAD, "dash": "dash", "width": 1}}


@functools.lru_cache(maxsize=1)
def plotly_payload() -> str:
    """plotly.min.js, gzip-compressed and Ascii85-encoded, with ``<`` written as ``v``
    (Ascii85 never uses ``v``) so the text cannot close its ``<script>`` element."""
    import gzip

    import plotly

    js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    packed = gzip.compress(js, compresslevel=9, mtime=0)
    return base64.a85encode(packed).decode("ascii").replace("<", "v")


def _load(value: Any, cls: Any) -> Any:
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, dict):
        return cls.from_dict(value)
    raise InvalidArgumentError(
        f"a report window's {cls.__name__.lower()} must be a {cls.__name__} or its dict, "
        f"not {type(value).__name__}")


def _time(value: Any) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) \
        else str(value)


def _r(x: Any) -> Any:
    if x is None:
        return None
    x = float(x)
    return float(f"{x:.6g}") if math.isfinite(x) else None


def _e(value: Any) -> str:
    return html.escape(str(value))


_LOADER = r"""
function a85(t){t=t.replace(/v/g,'<').replace(/\s/g,'');
const out=new Uint8Array(Math.ceil(t.length*4/5)+4);
let o=0,i=0;while(i<t.length){if(t[i]==='z'){o+=4;i++;continue;}
const g=t.slice(i,i+5);i+=5;const pad=5-g.length;let v=0;
for(let k=0;k<5;k++){v=v*85+((k<g.length?g.charCodeAt(k):117)-33);}
const b=[(v>>>24)&255,(v>>>16)&255,(v>>>8)&255,v&255];for(let k=0;k<4-pad;k++)out[o++]=b[k];}
return out.subarray(0,o);}
(async()=>{const st=document.getElementById('status');
try{if(!('DecompressionStream' in window))
throw new Error('this browser cannot unpack gzip (DecompressionStream)');
const bytes=a85(document.getElementById('plotly-a85').textContent);
const unpacked=new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
const js=await new Response(unpacked).text();
const s=document.createElement('script');s.text=js;document.head.appendChild(s);
const figs=JSON.parse(document.getElementById('figures').textContent);
for(const [id,f] of figs){Plotly.newPlot(id,f.data,f.layout,{displaylogo:false,responsive:true});}
st.remove();}catch(e){st.textContent='Plots unavailable: '+e.message;}})();
"""
