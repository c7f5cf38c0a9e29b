"""Monitoring benchmark: kiln's drift vs Evidently 0.7.23's DataDriftPreset, same data.

    .venv/bin/python bench/bench_monitoring.py            # 100,000 and 1,000,000 rows x 25 columns
    .venv/bin/python bench/bench_monitoring.py --quick    # 100,000 rows only
    .venv/bin/python bench/bench_monitoring.py --reps 3   # runs per side and size (medians)

Evidently is installed from PyPI into its own virtualenv
(${KILN_BENCH_PEERS:-~/.cache/kiln-bench}/evidently/venv, pandas<3). The data is the
harness of /work/shared/peer-bench/evidently (bench/peers/evidently/gen_data.py): 20 numeric
and 5 categorical columns, 5 of them shifted in the current frame. Each side runs in its
own process per repetition; time is the drift computation (Evidently: Dataset.from_pandas
x2 + Report.run; kiln: detect_drift on the two frames, which profiles both), peak memory is
the process's ru_maxrss (data loading included on both sides). Also printed: drift of a
window against a stored profile of 100k vs 1M reference rows, and the HTML report size.
Results: a table with the ratios and bench/results/monitoring.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
HARNESS = BENCH / "peers" / "evidently"
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402

RESULTS = BENCH / "results" / "monitoring.json"
SHIFTED = ["num_0", "num_1", "num_2", "cat_0", "cat_1"]


def run_json(cmd: list[str]) -> dict[str, object]:
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    data: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--evidently-reps-1m", type=int, default=1,
                    help="Evidently runs at 1M rows (about 2 minutes each)")
    args = ap.parse_args()
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    evidently = str(peers.ensure_peer("evidently"))
    data = Path(os.environ.get("KILN_BENCH_DATA") or peers.peer_dir("evidently") / "data")
    for n in sizes + [100_000, 1_000_000][len(sizes):]:
        if not (data / f"cur_{n}.parquet").exists():
            print(f"generating {n:,} rows in {data}", flush=True)
            subprocess.run([sys.executable, str(HARNESS / "gen_data.py"), str(n), str(data)],
                           check=True)
    results: dict[str, object] = {"load_before": os.getloadavg()[0], "sizes": {}}
    kiln_cmd = [sys.executable, str(BENCH / "kiln_monitoring.py")]
    print(f"{'rows':>10} {'side':>9} {'seconds':>8} {'peak MB':>8}  drifted columns", flush=True)
    for n in sizes:
        runs: dict[str, list[dict[str, object]]] = {"kiln": [], "evidently": []}
        ev_reps = args.reps if n < 1_000_000 else args.evidently_reps_1m
        for rep in range(max(args.reps, ev_reps)):
            if rep < args.reps:
                runs["kiln"].append(run_json([*kiln_cmd, "drift", str(data), str(n)]))
            if rep < ev_reps:
                runs["evidently"].append(run_json(
                    [evidently, str(HARNESS / "drift_report.py"), str(data), str(n)]))
        summary = {}
        for side, rs in runs.items():
            secs = statistics.median(float(r["seconds"]) for r in rs)  # type: ignore[arg-type]
            mem = statistics.median(float(r["maxrss_mb"]) for r in rs)  # type: ignore[arg-type]
            drifted = sorted(rs[-1]["drifted"])  # type: ignore[call-overload]
            summary[side] = {"seconds": secs, "maxrss_mb": mem, "drifted": drifted,
                             "runs": rs}
            print(f"{n:>10,} {side:>9} {secs:>8.2f} {mem:>8.0f}  {', '.join(drifted)}",
                  flush=True)
        k, e = summary["kiln"], summary["evidently"]
        speed = e["seconds"] / k["seconds"]  # type: ignore[operator]
        memory = k["maxrss_mb"] / e["maxrss_mb"]  # type: ignore[operator]
        false_alarms = {s: [c for c in summary[s]["drifted"] if c not in SHIFTED]  # type: ignore[attr-defined]
                        for s in summary}
        missed = {s: [c for c in SHIFTED if c not in summary[s]["drifted"]]  # type: ignore[operator]
                  for s in summary}
        print(f"{'':>10} ratio     kiln {speed:.1f}x faster, peak memory {memory:.2f} of "
              f"Evidently's; false alarms kiln {false_alarms['kiln']} evidently "
              f"{false_alarms['evidently']}; missed kiln {missed['kiln']} evidently "
              f"{missed['evidently']}", flush=True)
        results["sizes"][str(n)] = {**summary, "speedup": speed,  # type: ignore[index]
                                    "memory_ratio": memory, "false_alarms": false_alarms,
                                    "missed": missed}
    stored = []
    for n_ref in (100_000, 1_000_000):
        r = run_json([*kiln_cmd, "stored", str(data), str(n_ref), "100000"])
        stored.append(r)
        print(f"stored profile of {n_ref:>9,} reference rows ({float(r['profile_kb']):.0f} KB)"  # type: ignore[arg-type]
              f": drift of a 100,000-row window {float(r['seconds']) * 1000:.0f} ms", flush=True)  # type: ignore[arg-type]
    results["stored"] = stored
    with tempfile.TemporaryDirectory() as tmp:
        rep = run_json([*kiln_cmd, "report", str(data), "1000000", f"{tmp}/report.html"])
    print(f"HTML report, 1,000,000 rows in 24 windows x 25 features: "
          f"{float(rep['html_mb']):.2f} MB", flush=True)  # type: ignore[arg-type]
    results["report"] = rep
    results["load_after"] = os.getloadavg()[0]
    print(f"load average {results['load_before']:.1f} before, {results['load_after']:.1f} after")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
