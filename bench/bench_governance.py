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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            assert mv is not None
            ws.evaluate(mv, holdout, label="target", sensitive=["clinic"])
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = ws.verify_audit_log()
        verify_s = time.perf_counter() - start
        assert result.ok
        ws.close()
    return {"create_end_per_s": create_end, "evaluate_s": statistics.median(times),
            "verify_events_per_s": result.checked / verify_s, "events": result.checked}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs, reps = (200, 1) if args.quick else (1000, 3)
    py = peers.ensure_peer("mlflow")
    out = subprocess.run([str(py), str(peers.script("mlflow_governance.py")), str(runs),
                          str(reps)], capture_output=True, text=True, check=True)
    mlflow = json.loads(out.stdout.strip().splitlines()[-1])
    kiln = kiln_side(runs, reps)
    rows = [
        (f"a create+end {runs} runs (kiln: +2 audit events each), runs/s",
         kiln["create_end_per_s"], mlflow["create_end_per_s"],
         kiln["create_end_per_s"] / mlflow["create_end_per_s"]),
        ("b evaluate classifier on 143 rows, s (lower is better)", kiln["evaluate_s"],
         mlflow["evaluate_s"], mlflow["evaluate_s"] / kiln["evaluate_s"]),
    ]
    print(f"{'item':<62} {'kiln':>10} {'mlflow':>10} {'ratio':>8}")
    for name, k, m, ratio in rows:
        print(f"{name:<62} {k:>10.3f} {m:>10.3f} {ratio:>7.1f}x")
    print(f"c kiln audit verify: {kiln['verify_events_per_s']:,.0f} events/s "
          f"({kiln['events']:,} events)")
    (BENCH / "results").mkdir(exist_ok=True)
    (BENCH / "results" / "governance.json").write_text(json.dumps(
        {"kiln": kiln, "mlflow": mlflow, "runs": runs, "reps": reps}, indent=2))


if __name__ == "__main__":
    main()
