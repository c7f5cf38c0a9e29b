"""kiln side of bench_features.py: one measurement per process, one JSON line on stdout.

    python bench/kiln_features.py apply WORK                 # register driver_stats
    python bench/kiln_features.py historical WORK [--verify N]
    python bench/kiln_features.py materialize WORK
    python bench/kiln_features.py online WORK [CALLS]

WORK holds data/driver_stats.parquet and data/entity_df.parquet (the Feast harness's
gen_data.py); KILN_HOME must point at the kiln workspace to use. The protocol of each
item mirrors /work/shared/peer-bench/feast (timed regions, warm-up, random seeds).
"""
from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path


def _view(work: Path):  # type: ignore[no-untyped-def]
    from kiln.features import Entity, Feature, FeatureView

    driver = Entity("driver", join_keys=["driver_id"])
    return FeatureView("driver_stats", entities=[driver],
                       source=str(work / "data" / "driver_stats.parquet"),
                       features=[Feature(f"f{j}", "float32") for j in range(10)],
                       ttl=timedelta(days=365))


FEATS = [f"driver_stats:f{j}" for j in range(10)]


def apply(work: Path) -> dict:
    import kiln

    t0 = time.perf_counter()
    report = kiln.features.apply([_view(work)])
    return {"apply_s": round(time.perf_counter() - t0, 3), "changes": report.describe()}


def historical(work: Path, verify: int) -> dict:
    import pandas as pd

    import kiln

    edf = pd.read_parquet(work / "data" / "entity_df.parquet")
    kiln.features.get_feature_view("driver_stats")  # open the workspace before the timer
    t0 = time.perf_counter()
    res = kiln.features.get_training_set(edf, FEATS)
    elapsed = time.perf_counter() - t0
    out = {"hist_to_df_s": round(elapsed, 3), "rows": len(res),
           "entity_rows": len(edf), "nonnull_f0": int(res["f0"].notna().sum())}
    if verify:
        out.update(_verify(work, edf, res, verify))
    return out


def _verify(work: Path, edf, res, n: int) -> dict:  # type: ignore[no-untyped-def]
    """Brute force on a sample: for each sampled entity row, the latest source row of its
    driver at or before its time (within the 365-day ttl). Equal timestamps make several
    rows equally valid: any of them is accepted, and the count of such rows reported."""
    import numpy as np
    import pandas as pd

    src = pd.read_parquet(work / "data" / "driver_stats.parquet")
    by_id = {k: g for k, g in src.groupby("driver_id")}
    rng = np.random.default_rng(5)
    sample = rng.choice(len(edf), size=min(n, len(edf)), replace=False)
    cols = [f"f{j}" for j in range(10)]
    mismatches = ties = expected_null = 0
    ttl = pd.Timedelta(days=365)
    for i in sample:
        row = edf.iloc[i]
        got = res.iloc[i]
        assert got.driver_id == row.driver_id and got.event_timestamp == row.event_timestamp
        g = by_id.get(row.driver_id)
        cand = None if g is None else g[(g.event_timestamp <= row.event_timestamp)
                                        & (g.event_timestamp >= row.event_timestamp - ttl)]
        if cand is None or cand.empty:
            expected_null += 1
            mismatches += int(got[cols].notna().any())
            continue
        best = cand[cand.event_timestamp == cand.event_timestamp.max()]
        ties += int(len(best) > 1)
        values = got[cols].to_numpy(dtype=np.float32)
        mismatches += int(not any((best[cols].to_numpy() == values).all(axis=1)))
    return {"verify_sample": len(sample), "verify_mismatches": mismatches,
            "verify_expected_null": expected_null, "verify_ties": ties,
            "rows_dropped": len(edf) - len(res)}


def materialize(work: Path) -> dict:
    import kiln

    kiln.features.get_feature_view("driver_stats")
    t0 = time.perf_counter()
    [result] = kiln.features.materialize()
    elapsed = time.perf_counter() - t0
    sample = kiln.features.get_online_features([{"driver_id": 1000}], ["driver_stats:f0"])
    return {"materialize_incremental_s": round(elapsed, 3), "entities": result.rows,
            "sample_f0": sample.values["f0"][0]}


def online(work: Path, calls: int) -> dict:
    import numpy as np

    import kiln

    ws = kiln.get_workspace()
    rng = np.random.default_rng(7)
    out: dict = {"online_store": ws.settings.online_store.split(":", 1)[0]}
    for batch in (1, 100):
        for _ in range(50):
            ids = rng.integers(1000, 11000, batch)
            ws.get_online_features([{"driver_id": int(i)} for i in ids], FEATS).to_dict()
        lat = np.empty(calls)
        nulls = 0
        for k in range(calls):
            ids = rng.integers(1000, 11000, batch)
            rows = [{"driver_id": int(i)} for i in ids]
            t0 = time.perf_counter_ns()
            d = ws.get_online_features(rows, FEATS).to_dict()
            lat[k] = time.perf_counter_ns() - t0
            nulls += sum(v is None for v in d["f0"])
        lat /= 1e6
        out[f"batch{batch}"] = {"calls": calls, "p50_ms": round(float(np.percentile(lat, 50)), 3),
                                "p99_ms": round(float(np.percentile(lat, 99)), 3),
                                "mean_ms": round(float(lat.mean()), 3), "null_f0": nulls}
    return out


def main() -> None:
    what, work = sys.argv[1], Path(sys.argv[2]).resolve()
    if what == "apply":
        out = apply(work)
    elif what == "historical":
        verify = int(sys.argv[sys.argv.index("--verify") + 1]) if "--verify" in sys.argv else 0
        out = historical(work, verify)
    elif what == "materialize":
        out = materialize(work)
    elif what == "online":
        out = online(work, int(sys.argv[3]) if len(sys.argv) > 3 else 2000)
    else:
        raise SystemExit(f"unknown item {what!r}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
