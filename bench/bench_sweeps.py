"""Sweeps benchmark: kiln's per-trial overhead against plain Optuna on the same objective.

The objective takes ``x`` in [-4, 4] and reports ``(x - 1)^2 + 1/(step + 1)`` for 10 steps
(with the median pruner asking after each). The sides, each in a fresh process, each
timed from the first trial to the last (process start-up and imports excluded):

* ``optuna-memory``: ``study.optimize`` with Optuna's in-memory storage (nothing kept);
* ``optuna-journal``: the same with Optuna's ``JournalFileBackend`` (a persistent study);
* ``kiln-local``: ``kiln.sweeps.sweep(..., executor="local")``: the study in kiln's
  SQLite database, and every trial a tracked child run (params, 10 metric points,
  tags, status) through the local executor;
* ``kiln-process``: the same on the ``process`` executor with 2 workers.

Optuna is kiln's own dependency here (the version in kiln's venv), so both sides use
the same sampler and pruner code; no separate peer venv is needed.

usage: python bench/bench_sweeps.py [--trials 100] [--reps 3]
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

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

SIDE = r'''
import json, sys, time
side, trials, home = sys.argv[1], int(sys.argv[2]), sys.argv[3]
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)

def curve(x, step):
    return (x - 1.0) ** 2 + 1.0 / (step + 1)

if side.startswith("optuna"):
    def objective(trial):
        x = trial.suggest_float("x", -4.0, 4.0)
        for step in range(10):
            trial.report(curve(x, step), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return curve(x, 9)
    storage = None
    if side == "optuna-journal":
        from optuna.storages.journal import JournalFileBackend
        storage = optuna.storages.JournalStorage(JournalFileBackend(f"{home}/journal.log"))
    # The sampler and pruner kiln's sweeps use (kiln.sweeps.runner).
    sampler = optuna.samplers.TPESampler(seed=0, constant_liar=True, multivariate=True)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    study = optuna.create_study(storage=storage, study_name="bench", sampler=sampler,
                                pruner=pruner)
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    run_s = time.perf_counter() - t0
else:
    import kiln
    from kiln.sweeps import sweep
    def train(params):
        for step in range(10):
            kiln.log_metric("loss", curve(params["x"], step), step=step)
    ws = kiln.Workspace(home=home)
    executor = side.split("-")[1]
    if executor == "process":  # start the pool before timing, as the Optuna side has no pool
        from kiln.pipelines.executors.process import _pool
        _pool(2, ws.settings)
    t0 = time.perf_counter()
    sweep(train, {"x": {"type": "float", "low": -4.0, "high": 4.0}}, trials=trials,
          executor=executor, n_jobs=2, seed=0, name="bench", workspace=ws)
    run_s = time.perf_counter() - t0
print("BENCH_RESULT " + json.dumps({"run_s": run_s}))
'''

SIDES = ("optuna-memory", "optuna-journal", "kiln-local", "kiln-process")


def _sample(side: str, trials: int) -> float:
    with tempfile.TemporaryDirectory(prefix="kiln-bench-sweeps-") as home:
        p = subprocess.run([sys.executable, "-c", SIDE, side, str(trials), home],
                           capture_output=True, text=True, timeout=1800,
                           env={**os.environ, "KILN_HOME": home})
    for line in p.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return float(json.loads(line[len("BENCH_RESULT "):])["run_s"])
    raise RuntimeError(f"{side} failed (rc={p.returncode}): {p.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()
    samples: dict[str, list[float]] = {s: [] for s in SIDES}
    for _ in range(args.reps):
        for side in SIDES:  # interleaved, so a burst of load hits every side alike
            samples[side].append(_sample(side, args.trials))
    per_trial = {s: statistics.median(v) / args.trials * 1000 for s, v in samples.items()}
    base = per_trial["optuna-memory"]
    print(f"{args.trials} trials, median of {args.reps} runs; load average "
          f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"{'side':<16}{'ms per trial':>14}{'× optuna-memory':>18}")
    for side in SIDES:
        print(f"{side:<16}{per_trial[side]:>14.1f}{per_trial[side] / base:>18.2f}")
    RESULTS.mkdir(exist_ok=True)
    out: dict[str, Any] = {"trials": args.trials, "reps": args.reps, "samples_s": samples,
                           "per_trial_ms": per_trial, "load": [load[0], os.getloadavg()[0]],
                           "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    (RESULTS / "sweeps.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
