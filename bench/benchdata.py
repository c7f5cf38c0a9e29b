"""Data shared by the kiln side and the peer side of the benchmarks.

Pure standard library: the peer scripts import it from the peer's virtualenv,
so both sides log exactly the same values and must return the same row counts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

N_PARAMS = 10
N_METRICS = 10
EXPERIMENT = "bench-search"
SEARCH_FILTER = "metrics.m0 > 0.5 and params.p1 = 'x'"
SEARCH_ORDER_BY = ["metrics.m0 DESC"]
# the three searches of item c (name, filter, order_by); None = not given
SEARCHES = [
    ("filter", SEARCH_FILTER, None),
    ("order_by", None, SEARCH_ORDER_BY),
    ("filter+order_by", SEARCH_FILTER, SEARCH_ORDER_BY),
]
# large enough for every run of item c to come back on both sides
SEARCH_MAX_RESULTS = 100_000


def run_values(n_runs: int, seed: int = 0) -> Iterator[tuple[dict[str, str], dict[str, float]]]:
    """Yield (params, metrics) for n_runs runs: p0..p9 in {'x','y'}, m0..m9 uniform [0, 1)."""
    rng = random.Random(seed)
    for _ in range(n_runs):
        metrics = {f"m{j}": rng.random() for j in range(N_METRICS)}
        params = {f"p{j}": rng.choice(("x", "y")) for j in range(N_PARAMS)}
        yield params, metrics


def expected_counts(n_runs: int, seed: int = 0) -> dict[str, int]:
    """Rows each search of SEARCHES must return (computed in plain Python)."""
    hits = sum(1 for p, m in run_values(n_runs, seed) if m["m0"] > 0.5 and p["p1"] == "x")
    return {"filter": hits, "order_by": n_runs, "filter+order_by": hits}


def log_metric_value(i: int) -> float:
    return i * 0.5


# --- result exchange between the orchestrator and the side scripts -------------
# A side script calls quiet_stdout() first (so library prints go to stderr) and
# emit(result) last; the orchestrator takes the line starting with RESULT_TAG.
RESULT_TAG = "KILN_BENCH_RESULT "
_real_stdout = None


def quiet_stdout() -> None:
    import sys

    global _real_stdout
    if _real_stdout is None:
        _real_stdout = sys.stdout
        sys.stdout = sys.stderr


def emit(result: dict) -> None:
    import json
    import sys

    out = _real_stdout or sys.stdout
    out.write(RESULT_TAG + json.dumps(result) + "\n")
    out.flush()


def median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)
