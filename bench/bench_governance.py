"""Governance benchmark: kiln vs MLflow, side by side, same machine, same data.

    .venv/bin/python bench/bench_governance.py           # 1,000 runs, 3 evaluations
    .venv/bin/python bench/bench_governance.py --quick   # 200 runs, 1 evaluation

Items: (a) create + end runs, where kiln also appends two hash-chained audit events
per run (MLflow keeps no audit log): the cost of tamper evidence on the hot path;
(b) evaluating a classifier on a holdout set: ``kiln.evaluate`` (metrics, per-slice,
fairness, permutation importance, stored) vs ``mlflow.models.evaluate`` (default
evaluator: metrics and plots); (c) kiln only: ``kiln audit verify`` speed.
MLflow runs in its own venv (bench/peers). Results: bench/results/governance.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402


def kiln_side(runs: int, reps: int) -> dict[str, float]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from kiln.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(home=Path(tmp) / ".kiln")
        ws.end_run(ws.create_run("bench").run_id)  # warm-up (schema, experiment)
        start = time.perf_counter()
        for i in range(runs):
            ws.end_run(ws.create_run("bench", name=f"r{i}").run_id)
        create_end = runs / (time.perf_counter() - start)

        data = load_breast_cancer(as_frame=True)
        X_train, X_test, y_train, y_test = train_test_split(
            data.data, data.target, test_size=0.25, random_state=0, stratify=data.target)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        model.fit(X_train, y_train)
        run = ws.create_run("eval")
        mv = ws.log_model(run.run_id, model, "bench-clf", input_example=X_train.head(5))
        holdout = X_test.assign(target=y_test.to_numpy(),
                                clinic=["A" if i % 2 else "B" for i in range(len(X_test))])
        times, methods = [], set()
        for _ in range(reps):
            start = time.perf_counter()
            assert mv is not None
            ev = ws.evaluate(mv, holdout, label="target", sensitive=["clinic"])
            times.append(time.perf_counter() - start)
            methods.add(ev.importance_method)
        perm = []
        hidden = sys.modules.get("shap")
        sys.modules["shap"] = None  # type: ignore[assignment]  # as if not installed
        try:
            for _ in range(reps):
                start = time.perf_counter()
                ws.evaluate(mv, holdout, label="target", sensitive=["clinic"])
                perm.append(time.perf_counter() - start)
        finally:
            if hidden is None:
                sys.modules.pop("shap", None)
            else:
                sys.modules["shap"] = hidden
        forget_s, forget_rows = forget_side(ws)
        start = time.perf_counter()
        result = ws.verify_audit_log()
        verify_s = time.perf_counter() - start
        assert result.ok
        ws.close()
    return {"create_end_per_s": create_end, "evaluate_s": statistics.median(times),
            "importance_method": ",".join(sorted(methods)),
            "evaluate_permutation_s": statistics.median(perm),
            "verify_events_per_s": result.checked / verify_s, "events": result.checked,
            "forget_s": forget_s, "forget_rows": forget_rows}


def forget_side(ws: object, batches: int = 10, rows: int = 20_000) -> tuple[float, int]:
    """(d) ``kiln privacy forget`` over ``batches`` x ``rows`` logged predictions: every
    batch holds one request of the subject, so every batch is rewritten."""
    import json as _json

    from kiln.governance.privacy import forget
    from kiln.serving.predlog import LogRecord, PredictionLogger

    w: Any = ws
    mv = w.get_model("bench-clf").latest_version
    w.set_alias("bench-clf", "production", mv)
    w.create_deployment("bench", ["bench-clf@production:1"])
    logger = PredictionLogger(w.store, w.artifacts, "bench", max_rows=rows + 1,
                              batch_rows=rows)
    for b in range(batches):
        for i in range(rows):
            customer = 123 if i == 7 else 1000 + i
            body = _json.dumps({"inputs": [{"customer_id": customer, "x": i}]}).encode()
            logger.log(LogRecord(f"r{b}-{i}", b * rows + i, "bench", 1, "bench-clf@production",
                                 "bench-clf", 1, False, 200, 1.0, body, [0]))
        logger.flush()
    start = time.perf_counter()
    forget(w, "customer_id", "123")
    return time.perf_counter() - start, batches * rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--kiln-only", action="store_true",
                        help="skip MLflow (no ratios for a and b)")
    args = parser.parse_args()
    runs, reps = (200, 1) if args.quick else (1000, 3)
    mlflow: dict[str, float] = {}
    if not args.kiln_only:
        py = peers.ensure_peer("mlflow")
        out = subprocess.run([str(py), str(peers.script("mlflow_governance.py")), str(runs),
                              str(reps)], capture_output=True, text=True, check=True)
        mlflow = json.loads(out.stdout.strip().splitlines()[-1])
    load = os.getloadavg()[0]
    kiln = kiln_side(runs, reps)
    rows = [
        (f"a create+end {runs} runs (kiln: +2 audit events each), runs/s",
         kiln["create_end_per_s"], mlflow.get("create_end_per_s")),
        (f"b evaluate classifier on 143 rows ({kiln['importance_method']}), s",
         kiln["evaluate_s"], mlflow.get("evaluate_s")),
        ("b' the same with permutation importance, s", kiln["evaluate_permutation_s"],
         mlflow.get("evaluate_s")),
    ]
    print(f"{'item':<62} {'kiln':>10} {'mlflow':>10} {'ratio':>8}")
    for name, k, m in rows:
        ratio = "" if not m else f"{(k / m if name.startswith('a') else m / k):7.1f}x"
        print(f"{name:<62} {k:>10.3f} {m or float('nan'):>10.3f} {ratio:>8}")
    print(f"c kiln audit verify: {kiln['verify_events_per_s']:,.0f} events/s "
          f"({kiln['events']:,} events)")
    print(f"d kiln privacy forget: {kiln['forget_s']:.2f} s for {kiln['forget_rows']:,} "
          "logged predictions in 10 batches (every batch rewritten)")
    print(f"1-minute load average at the start: {load:.1f} ({os.cpu_count()} CPUs)")
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "governance.json").write_text(json.dumps(
        {"kiln": kiln, "mlflow": mlflow, "runs": runs, "reps": reps}, indent=2))


if __name__ == "__main__":
    main()
