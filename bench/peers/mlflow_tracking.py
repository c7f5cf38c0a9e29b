"""MLflow side of bench/bench_tracking.py. Runs with the MLflow peer venv's python.

Adapted from the peer-bench harness (tracking_bench.py, registry_bench.py,
load_alias.py); uses MLflow only through its public API. The orchestrator runs
each command in a fresh temporary directory (cwd) with
MLFLOW_TRACKING_URI=sqlite:///<dir>/mlflow.db, so the default artifact store is
<dir>/mlruns. The result is one JSON line on stdout (see benchdata.emit).

    python mlflow_tracking.py log_metric --n 2000 --reps 3
    python mlflow_tracking.py runs --n-runs 1000 --reps 5
    python mlflow_tracking.py model_setup --name bc
    python mlflow_tracking.py model_load --uri models:/bc@champion
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import benchdata as bd

bd.quiet_stdout()


def _versions() -> dict:
    import mlflow

    out = {"mlflow": mlflow.__version__}
    try:
        import sklearn

        out["scikit-learn"] = sklearn.__version__
    except ImportError:
        pass
    return out


def cmd_log_metric(args: argparse.Namespace) -> dict:
    """Single mlflow.log_metric calls inside one run (a: harness 1a)."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_experiment("bench-log-metric")
    client = MlflowClient()
    n = args.n
    rates, loop_rates, counts = [], [], []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        with mlflow.start_run() as run:
            for i in range(n):
                mlflow.log_metric("m", bd.log_metric_value(i), step=i)
            t_loop = time.perf_counter()
        t_end = time.perf_counter()  # run ended (set_terminated done)
        rates.append(n / (t_end - t0))
        loop_rates.append(n / (t_loop - t0))
        counts.append(len(client.get_metric_history(run.info.run_id, "m")))
    return {
        "n": n,
        "reps": args.reps,
        "calls_per_s": rates,
        "loop_only_calls_per_s": loop_rates,
        "read_back_counts": counts,
        "median_calls_per_s": bd.median(rates),
    }


def cmd_runs(args: argparse.Namespace) -> dict:
    """Create N runs x (10 params, 10 metrics), then search them (harness 1c)."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient()
    exp_id = mlflow.create_experiment(bd.EXPERIMENT)
    t0 = time.perf_counter()
    for params, metrics in bd.run_values(args.n_runs):
        r = client.create_run(exp_id)
        ts = int(time.time() * 1000)
        client.log_batch(
            r.info.run_id,
            metrics=[Metric(k, v, ts, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
        )
        client.set_terminated(r.info.run_id)
    create_s = time.perf_counter() - t0

    searches: dict[str, dict] = {name: {"times_s": [], "rows": None} for name, _, _ in bd.SEARCHES}
    for _ in range(args.reps):
        for name, flt, order_by in bd.SEARCHES:
            kw: dict = {"experiment_ids": [exp_id], "max_results": bd.SEARCH_MAX_RESULTS}
            if flt:
                kw["filter_string"] = flt
            if order_by:
                kw["order_by"] = order_by
            t0 = time.perf_counter()
            df = mlflow.search_runs(**kw)
            searches[name]["times_s"].append(time.perf_counter() - t0)
            searches[name]["rows"] = len(df)
            if order_by:
                col = df["metrics.m0"].tolist()
                searches[name]["ordered"] = col == sorted(col, reverse=True)
    for s in searches.values():
        s["median_s"] = bd.median(s["times_s"])
    return {"n_runs": args.n_runs, "create_s": create_s, "searches": searches}


def _training_data():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True, as_frame=True)


def cmd_model_setup(args: argparse.Namespace) -> dict:
    """Train, log (with signature), register, set alias `champion` (harness registry_bench)."""
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    X, y = _training_data()
    clf = LogisticRegression(max_iter=5000).fit(X, y)
    sig = infer_signature(X, clf.predict(X))
    mlflow.set_experiment("bench-models")
    with mlflow.start_run():
        t0 = time.perf_counter()
        info = mlflow.sklearn.log_model(clf, name="model", signature=sig)
        t1 = time.perf_counter()
        mv = mlflow.register_model(info.model_uri, args.name)
        t2 = time.perf_counter()
    MlflowClient().set_registered_model_alias(args.name, "champion", mv.version)
    t3 = time.perf_counter()
    return {
        "name": args.name,
        "version": str(mv.version),
        "alias_uri": f"models:/{args.name}@champion",
        "log_model_s": t1 - t0,
        "register_s": t2 - t1,
        "set_alias_s": t3 - t2,
        "n_positive": int(clf.predict(X).sum()),
        "versions": _versions(),
    }


def cmd_model_load(args: argparse.Namespace) -> dict:
    """Fresh process: time pyfunc.load_model(alias) after `import mlflow`."""
    if args.preimport:  # isolate the library's own overhead from sklearn's import time
        import sklearn.linear_model  # noqa: F401
    t_imp = time.perf_counter()
    import mlflow
    import mlflow.pyfunc

    t0 = time.perf_counter()
    model = mlflow.pyfunc.load_model(args.uri)
    t1 = time.perf_counter()
    X, _ = _training_data()
    pred = model.predict(X)
    return {"import_s": t0 - t_imp, "load_s": t1 - t0, "n_positive": int(sum(pred))}


def cmd_versions(args: argparse.Namespace) -> dict:
    return _versions()


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("log_metric")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--reps", type=int, default=3)
    p = sub.add_parser("runs")
    p.add_argument("--n-runs", type=int, default=1000)
    p.add_argument("--reps", type=int, default=5)
    p = sub.add_parser("model_setup")
    p.add_argument("--name", default="bench_bc")
    p = sub.add_parser("model_load")
    p.add_argument("--uri", required=True)
    p.add_argument(
        "--preimport", action="store_true", help="import sklearn.linear_model before the timer"
    )
    sub.add_parser("versions")
    args = ap.parse_args()
    result = globals()["cmd_" + args.cmd](args)
    bd.emit(result)


if __name__ == "__main__":
    main()
