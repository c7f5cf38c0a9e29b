"""Render bench/results/tracking.json as the Markdown table used in docs/benchmarks.md.

.venv/bin/python bench/report.py [bench/results/tracking.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_tracking import ITEMS, RESULTS, fmt_rate, fmt_time  # noqa: E402


def cell(it: dict, side: str) -> str:
    v = it.get(side)
    if v is None:
        return "error" if it.get(f"{side}_error") else "—"
    return fmt_rate(v, it["unit"]) if it["kind"] == "rate" else fmt_time(v)


def markdown(res: dict) -> str:
    out = [
        f"Run of {res['date']} ({res['mode']}), {res['machine']['cpus']} CPUs, "
        f"Python {res['machine']['python']}, "
        + ", ".join(
            f"{k} {v}"
            for k, v in sorted(res["versions"].items())
            if k in ("kiln", "mlflow", "scikit-learn")
        )
        + (
            f" (commit {res['kiln_source']['commit']}"
            f"{', src/ with local changes' if res['kiln_source']['src_dirty'] else ''})"
            if res.get("kiln_source", {}).get("commit")
            else ""
        )
        + f"; whole run {res['duration_s'] / 60:.1f} min.",
        "",
        "| item | MLflow | kiln | ratio | goal | met? |",
        "|---|---:|---:|---:|:---:|:---:|",
    ]
    for key in ITEMS:
        it = res["items"].get(key)
        if not it:
            continue
        ratio = f"{it['ratio']:,.1f}×" if it.get("ratio") else "—"
        met = {True: "yes", False: "**no**", None: "—"}[it.get("met")]
        if it.get("check_ok") is False:
            met += " (result check failed)"
        title = it["title"].replace("└ ", "↳ ").strip()
        if key in ("d_populate", "e_resolve", "f_preimported", "f_setup"):
            title = "&nbsp;&nbsp;" + title
        out.append(
            f"| {title} | {cell(it, 'mlflow')} | {cell(it, 'kiln')} | {ratio} "
            f"| {it['goal']} | {met} |"
        )
    fl = res["sqlite_floor_commits_per_s"]
    out += [
        "",
        "Raw sqlite3 INSERT+COMMIT floor on the same disk (3 × 500 commits): start "
        + ", ".join(f"{x:,.0f}" for x in fl["start"])
        + "; end "
        + ", ".join(f"{x:,.0f}" for x in fl["end"])
        + " commits/s.",
    ]
    if res.get("load_average"):
        la = res["load_average"]
        out.append(
            "Load average (1 min) before each step: "
            + ", ".join(f"{k.replace('before_', '')} {v[0]:.1f}" for k, v in la.items())
            + "."
        )
    if res.get("peer_figures_from"):
        out.append(
            f"MLflow figures reused from the run of {res['peer_figures_from']} (`--skip-peer`)."
        )
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    print(markdown(json.loads(path.read_text())))
