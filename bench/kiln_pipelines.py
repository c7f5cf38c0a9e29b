"""kiln versions of the peer benchmark pipelines (same work as /work/shared/peer-bench/pipelines).

usage: python kiln_pipelines.py linear SEED          20-step linear pipeline, cold
       python kiln_pipelines.py linear2 SEED_A SEED_B two cold runs in one process
       python kiln_pipelines.py cached SEED            a run, then the fully cached re-run
       python kiln_pipelines.py fanout LOGFILE [EXECUTOR]
       python kiln_pipelines.py train

The workspace is KILN_HOME (the harness gives each sample a fresh or reused one);
every step is recorded in the metadata store and its output stored as an artifact.
"""
from __future__ import annotations

import sys
import time

t_start = time.perf_counter()
import common as c  # noqa: E402

import kiln  # noqa: E402
from kiln import pipeline, step  # noqa: E402

t_import = time.perf_counter()


@step
def first(seed: int) -> int:
    return seed


@step
def add_one(x: int) -> int:
    return c.add_one(x)


@pipeline
def linear(seed: int = 0):
    x = first(seed)
    for _ in range(c.N_LINEAR - 1):
        x = add_one(x)


@step
def produce():
    return c.make_array()


@step
def consume(arr, k: int, log_path: str) -> dict:
    # No copy: the array arrives memory-mapped from the artifact store.
    copied = not (type(arr).__name__ == "memmap" and not arr.flags.owndata)
    return {"sum": c.consume(arr, k, log_path), "copied": copied}


@step
def join(values: list) -> dict:
    return {"total": c.join(v["sum"] for v in values),
            "copied": sum(v["copied"] for v in values)}


@pipeline
def fanout(log_path: str = "fanout.log"):
    arr = produce()
    join(consume.map(arr, k=list(range(c.N_FAN)), log_path=[log_path]))


@step
def load_data():
    return c.load_data()


@step
def split(data) -> tuple:
    return tuple(c.split(*data))


@step
def scale(parts):
    X_train, X_test, y_train, y_test = parts
    X_train_s, X_test_s = c.scale(X_train, X_test)
    return X_train_s, X_test_s, y_train, y_test


@step
def train(scaled):
    return c.train(scaled[0], scaled[2])


@step
def evaluate(model, scaled) -> float:
    return c.evaluate(model, scaled[1], scaled[3])


@pipeline
def train_pipe():
    scaled = scale(split(load_data()))
    evaluate(train(scaled), scaled)


def main() -> None:
    kind = sys.argv[1]
    extra: dict = {}
    ws = kiln.get_workspace()
    t0 = time.perf_counter()
    if kind == "linear":
        r = linear.run(seed=int(sys.argv[2]), workspace=ws)
    elif kind == "linear2":
        ta = time.perf_counter()
        linear.run(seed=int(sys.argv[2]), workspace=ws)
        tb = time.perf_counter()
        r = linear.run(seed=int(sys.argv[3]), workspace=ws)
        extra["run1_s"] = tb - ta
        extra["run2_s"] = time.perf_counter() - tb
    elif kind == "cached":
        linear.run(seed=int(sys.argv[2]), workspace=ws)
        tb = time.perf_counter()
        r = linear.run(seed=int(sys.argv[2]), workspace=ws)
        extra["cached_s"] = time.perf_counter() - tb
        extra["cached_steps"] = len(r.cached_steps)
    elif kind == "fanout":
        executor = sys.argv[3] if len(sys.argv) > 3 else "process"
        r = fanout.run(log_path=sys.argv[2], executor=executor, workspace=ws)
        extra["copied"] = r.output("join")["copied"]
    elif kind == "train":
        r = train_pipe.run(workspace=ws)
        extra["acc"] = r.output("evaluate")
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    t1 = time.perf_counter()
    extra["success"] = r.ok
    if kind == "fanout":
        extra["max_concurrency"] = c.max_concurrency(sys.argv[2])
        extra["n_pids"] = c.n_pids(sys.argv[2])
    c.emit(kind=kind, import_s=t_import - t_start, run_s=t1 - t0, script_s=t1 - t_start, **extra)
    ws.close()


if __name__ == "__main__":
    main()
