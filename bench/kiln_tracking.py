"""kiln side of bench/bench_tracking.py. Runs with kiln's interpreter (.venv).

Mirrors bench/peers/mlflow_tracking.py command by command, on the same data
(bench/benchdata.py). The orchestrator runs each command in a fresh temporary
directory (cwd) with KILN_HOME / KILN_DB_URL / KILN_ARTIFACTS_URL pointing into
it. The result is one JSON line on stdout (see benchdata.emit).

    python kiln_tracking.py log_metric --n 100000 --reps 3
    python kiln_tracking.py count --run-id ID [--run-id ID ...] --key m
    python kiln_tracking.py runs --n-runs 1000 --reps 5
    python kiln_tracking.py populate --n-runs 100000
    python kiln_tracking.py search_big --n-runs 100000 --reps 5
    python kiln_tracking.py model_setup --name bc
    python kiln_tracking.py model_load --uri models:/bc@champion
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchdata as bd

bd.quiet_stdout()

BIG_EXPERIMENT = "bench-search-100k"


def _workspace():
    """The explicit client for the bench directory (same URLs the env points at)."""
    import kiln

    ws = kiln.Workspace(
        db_url=os.environ["KILN_DB_URL"], artifacts_url=os.environ["KILN_ARTIFACTS_URL"]
    )
    kiln.set_workspace(ws)
    return ws


def _versions() -> dict:
    import kiln

    out = {"kiln": getattr(kiln, "__version__", "?")}
    try:
        import sklearn

        out["scikit-learn"] = sklearn.__version__
    except ImportError:
        pass
    return out


def cmd_log_metric(args: argparse.Namespace) -> dict:
    """Single kiln.log_metric calls inside one run; timed until the run has ended."""
    import kiln

    _workspace()
    n = args.n
    rates, loop_rates, counts, run_ids = [], [], [], []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        with kiln.start_run(experiment="bench-log-metric") as run:
            for i in range(n):
                kiln.log_metric("m", bd.log_metric_value(i), step=i)
            t_loop = time.perf_counter()
        t_end = time.perf_counter()  # run ended: everything must be durable from here on
        rates.append(n / (t_end - t0))
        loop_rates.append(n / (t_loop - t0))
        run_ids.append(run.run_id)
        hist = kiln.get_metric_history(run.run_id, "m")
        counts.append(len(hist))
    return {
        "n": n,
        "reps": args.reps,
        "calls_per_s": rates,
        "loop_only_calls_per_s": loop_rates,
        "read_back_counts": counts,
        "run_ids": run_ids,
        "median_calls_per_s": bd.median(rates),
    }


def cmd_count(args: argparse.Namespace) -> dict:
    """Fresh process: read every point back and check values and steps."""
    import kiln

    _workspace()
    out = []
    for rid in args.run_id:
        hist = kiln.get_metric_history(rid, args.key)
        steps = sorted(int(m.step) for m in hist)
        ok = steps == list(range(len(hist))) and all(
            float(m.value) == bd.log_metric_value(int(m.step)) for m in hist
        )
        out.append({"run_id": rid, "count": len(hist), "values_ok": ok})
    return {"runs": out}


def _search(searcher, experiment: str, flt, order_by, max_results: int):
    kw: dict = {"experiment": experiment, "max_results": max_results}
    if flt:
        kw["filter"] = flt
    if order_by:
        kw["order_by"] = order_by
    return searcher(**kw)


def cmd_runs(args: argparse.Namespace) -> dict:
    """Create N runs x (10 params, 10 metrics) with the fluent API, then search them."""
    import kiln

    _workspace()
    t0 = time.perf_counter()
    for params, metrics in bd.run_values(args.n_runs):
        with kiln.start_run(experiment=bd.EXPERIMENT):
            kiln.log_params(params)
            kiln.log_metrics(metrics, step=0)
    create_s = time.perf_counter() - t0

    searches: dict[str, dict] = {name: {"times_s": [], "rows": None} for name, _, _ in bd.SEARCHES}
    for _ in range(args.reps):
        for name, flt, order_by in bd.SEARCHES:
            t0 = time.perf_counter()
            df = _search(kiln.search_runs, bd.EXPERIMENT, flt, order_by, bd.SEARCH_MAX_RESULTS)
            searches[name]["times_s"].append(time.perf_counter() - t0)
            searches[name]["rows"] = len(df)
            if order_by:
                col = [float(v) for v in df["metrics.m0"].tolist()]
                searches[name]["ordered"] = col == sorted(col, reverse=True)
    for s in searches.values():
        s["median_s"] = bd.median(s["times_s"])
    return {"n_runs": args.n_runs, "create_s": create_s, "searches": searches}


class _Progress:
    """rich progress bar on a terminal, a line every 10 % otherwise (stderr)."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.t0 = total, label, time.perf_counter()
        self.bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(label, total=total)
        self.step = max(1, total // 10)
        self.next_line = self.step

    def update(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done)
        elif done >= self.next_line:
            dt = time.perf_counter() - self.t0
            print(
                f"    {self.label}: {done:,}/{self.total:,} ({done / dt:,.0f}/s)",
                file=sys.stderr,
                flush=True,
            )
            self.next_line += self.step

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def cmd_populate(args: argparse.Namespace) -> dict:
    """Fill an experiment with N runs x (10 params, 10 metrics) through the client API."""
    ws = _workspace()
    prog = _Progress(args.n_runs, f"populating {args.n_runs:,} runs")
    t0 = time.perf_counter()
    done = 0
    # One run = create_run + log_batch (10 params, 10 metrics) + end_run: the client API
    # has no multi-run bulk call, so this is the fastest public path.
    try:
        for params, metrics in bd.run_values(args.n_runs, seed=args.seed):
            run = ws.create_run(BIG_EXPERIMENT)
            ws.log_batch(run.run_id, metrics=metrics, params=params, tags={}, step=0)
            ws.end_run(run.run_id, status="FINISHED")
            done += 1
            if done % 100 == 0:
                prog.update(done)
    finally:
        prog.close()
    return {
        "n_runs": done,
        "populate_s": time.perf_counter() - t0,
        "method": "create_run+log_batch+end_run",
    }


def cmd_search_big(args: argparse.Namespace) -> dict:
    """Fresh process: filtered + ordered search over the populated experiment, max_results=100."""
    ws = _workspace()
    expected = sorted(
        (
            m["m0"]
            for p, m in bd.run_values(args.n_runs, seed=args.seed)
            if m["m0"] > 0.5 and p["p1"] == "x"
        ),
        reverse=True,
    )[:100]
    times, rows, ok = [], None, None
    for _ in range(args.reps):
        t0 = time.perf_counter()
        df = _search(ws.search_runs, BIG_EXPERIMENT, bd.SEARCH_FILTER, bd.SEARCH_ORDER_BY, 100)
        times.append(time.perf_counter() - t0)
        rows = len(df)
        got = [float(v) for v in df["metrics.m0"].tolist()]
        ok = got == expected and all(str(v) == "x" for v in df["params.p1"].tolist())
    return {
        "n_runs": args.n_runs,
        "times_s": times,
        "first_s": times[0],
        "median_s": bd.median(times),
        "rows": rows,
        "matches_expected_top100": ok,
    }


def _training_data():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True, as_frame=True)


def cmd_model_setup(args: argparse.Namespace) -> dict:
    """Train, log + register, set alias `champion`."""
    from sklearn.linear_model import LogisticRegression

    import kiln

    _workspace()
    X, y = _training_data()
    clf = LogisticRegression(max_iter=5000).fit(X, y)
    with kiln.start_run(experiment="bench-models"):
        t0 = time.perf_counter()
        mv = kiln.log_model(clf, name=args.name, input_example=X[:5])
        t1 = time.perf_counter()
    kiln.set_alias(args.name, "champion", version=mv.version)
    t2 = time.perf_counter()
    return {
        "name": args.name,
        "version": str(mv.version),
        "alias_uri": f"models:/{args.name}@champion",
        "log_model_s": t1 - t0,  # log + register (kiln.log_model registers the version)
        "set_alias_s": t2 - t1,
        "n_positive": int(clf.predict(X).sum()),
        "versions": _versions(),
    }


def cmd_model_load(args: argparse.Namespace) -> dict:
    """Fresh process: time kiln.load_model(alias) after `import kiln` (workspace from env)."""
    if args.preimport:  # isolate the library's own overhead from sklearn's import time
        import sklearn.linear_model  # noqa: F401
    t_imp = time.perf_counter()
    import kiln

    t0 = time.perf_counter()
    model = kiln.load_model(args.uri)
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
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--reps", type=int, default=3)
    p = sub.add_parser("count")
    p.add_argument("--run-id", action="append", required=True)
    p.add_argument("--key", default="m")
    p = sub.add_parser("runs")
    p.add_argument("--n-runs", type=int, default=1000)
    p.add_argument("--reps", type=int, default=5)
    p = sub.add_parser("populate")
    p.add_argument("--n-runs", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("search_big")
    p.add_argument("--n-runs", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
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
    if args.cmd == "log_metric":
        # leave without atexit handlers / interpreter shutdown: the points must
        # already be on disk when the run has ended (checked by `count` in a new process)
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
