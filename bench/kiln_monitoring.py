"""kiln's side of bench_monitoring.py, run as its own process so its peak memory is its own.

    kiln_monitoring.py drift DATA_DIR N          # detect_drift(reference frame, current frame)
    kiln_monitoring.py stored DATA_DIR N_REF N   # drift of an N-row window vs a stored profile
    kiln_monitoring.py report DATA_DIR N OUT     # 24 windows over the current data -> HTML

Each prints one JSON line.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time

import pandas as pd

from kiln.monitoring import Profile, WindowStats, detect_drift, render_report


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(folder: str, side: str, n: int) -> pd.DataFrame:
    return pd.read_parquet(f"{folder}/{side}_{n}.parquet")


def drift(folder: str, n: int) -> dict[str, object]:
    ref, cur = load(folder, "ref", n), load(folder, "cur", n)
    loaded = rss_mb()
    t0 = time.perf_counter()
    result = detect_drift(ref, cur)
    seconds = time.perf_counter() - t0
    return {"tool": "kiln", "n": n, "seconds": seconds, "maxrss_loaded_mb": loaded,
            "maxrss_mb": rss_mb(), "drifted": result.drifted_columns,
            "tests": {c.column: c.test for c in result.columns}}


def stored(folder: str, n_ref: int, n: int) -> dict[str, object]:
    stored_json = Profile.from_frame(load(folder, "ref", n_ref)).to_json()
    window = load(folder, "cur", n)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        result = detect_drift(Profile.from_json(stored_json), window)
        times.append(time.perf_counter() - t0)
    return {"n_reference": n_ref, "n_window": n, "profile_kb": len(stored_json) / 1e3,
            "seconds": statistics.median(times), "drifted": result.drifted_columns}


def report(folder: str, n: int, out: str) -> dict[str, object]:
    reference = Profile.from_frame(load(folder, "ref", n))
    cur = load(folder, "cur", n)
    windows = []
    step = -(-n // 24)
    t0 = time.perf_counter()
    for i in range(24):
        part = cur.iloc[i * step:(i + 1) * step]
        prof = Profile.from_frame(part, reference=reference)
        windows.append(WindowStats(f"2026-11-26 {i:02d}:00", f"2026-11-26 {i:02d}:59",
                                   detect_drift(reference, prof), profile=prof))
    path = render_report(windows, reference, out)
    return {"n": n, "windows": 24, "seconds": time.perf_counter() - t0,
            "html_mb": os.path.getsize(path) / 1e6}


if __name__ == "__main__":
    mode, folder = sys.argv[1], sys.argv[2]
    if mode == "drift":
        print(json.dumps(drift(folder, int(sys.argv[3]))))
    elif mode == "stored":
        print(json.dumps(stored(folder, int(sys.argv[3]), int(sys.argv[4]))))
    else:
        print(json.dumps(report(folder, int(sys.argv[3]), sys.argv[4])))
