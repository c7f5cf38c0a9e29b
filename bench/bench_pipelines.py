"""Pipelines benchmark: kiln vs Dagster, ZenML, Prefect and Metaflow on the same pipelines.

The peer-side pipelines are the harness scripts in /work/shared/peer-bench/pipelines
(``<peer>_bench.py``, ``common.py``, ``plain_train.py``); kiln's are in
``bench/kiln_pipelines.py`` and call the same ``common`` functions. Every sample runs
in a fresh process; peers run with their own interpreter from their own venv under
``${KILN_BENCH_PEERS:-~/.cache/kiln-bench}/<peer>/venv`` (installed on first use).

Measured (medians over --reps samples):

* per-step overhead: a 20-step linear pipeline of ``x + 1`` steps, the second cold run in
  one process (after one-time start-up), divided by 20; kiln records every step run
  in the metadata store and stores every output as an artifact;
* fully cached re-run of those 20 steps (kiln; ZenML is the only peer that caches);
* training pipeline (breast cancer, scale, logistic regression) vs the plain script:
  in-process time of the pipeline call over the plain code's;
* fan-out of one 10 MiB array to 8 steps: how many of the 8 consumers (each sleeps
  0.5 s) overlap, and whether any step received a copy (kiln: ``process`` executor).

usage: python bench/bench_pipelines.py [--peers dagster,zenml] [--reps 3] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HARNESS = Path(os.environ.get("KILN_PEER_BENCH", "/work/shared/peer-bench/pipelines"))
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from peers import ensure_peer, peer_dir  # noqa: E402

GOALS = {"step_overhead_ms": 2.0, "cached_rerun_s": 0.1, "train_ratio": 1.3}


def _run(args: list[str], env: dict[str, str], cwd: Path, need_run_s: bool = True
         ) -> dict[str, Any]:
    t0 = time.perf_counter()
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - t0
    rec: dict[str, Any] = {"wall_s": wall, "rc": p.returncode}
    for line in p.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            rec.update(json.loads(line[len("BENCH_RESULT "):]))
    if p.returncode != 0 or (need_run_s and "run_s" not in rec):
        tail = (p.stderr or p.stdout)[-2000:]
        print(f"  ! {' '.join(args[-3:])} failed (rc={p.returncode}):\n{tail}", file=sys.stderr)
    return rec


class Side:
    """One framework: how to run its scripts."""

    def __init__(self, name: str, python: str, script: Path, home: Path) -> None:
        self.name = name
        self.python = python
        self.script = script
        self.home = home
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("ZENML_", "PREFECT_", "DAGSTER_", "METAFLOW_"))}
        self.env.update(PYTHONPATH=f"{HARNESS}{os.pathsep}{HERE}", PYTHONUNBUFFERED="1",
                        USER="bench")
        if name == "prefect":  # its temporary API server starts slowly on a loaded machine
            self.env.update(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
                            PREFECT_SERVER_ANALYTICS_ENABLED="false")
        if name != "kiln":
            self.env["HOME"] = str(home / "home")
            (home / "home").mkdir(parents=True, exist_ok=True)
        self.work = home / "work"
        self.work.mkdir(parents=True, exist_ok=True)

    def run(self, *args: object, kiln_home: str | None = None) -> dict[str, Any]:
        env = dict(self.env)
        if self.name == "kiln":
            env["KILN_HOME"] = kiln_home or tempfile.mkdtemp(prefix="kiln-bench-", dir=self.home)
        return _run([self.python, str(self.script), *map(str, args)], env, self.work)

    def flow(self, script: str, *args: object) -> dict[str, Any]:
        """Metaflow: ``python FLOW.py run ...`` (one CLI per flow, so only its wall time)."""
        rec = _run([self.python, str(HARNESS / script), "run", *map(str, args)], self.env,
                   self.work, need_run_s=False)
        rec["run_s"] = rec["wall_s"]
        return rec

    def plain_train(self) -> dict[str, Any]:
        return _run([self.python, str(HARNESS / "plain_train.py")], self.env, self.work)


def _median(samples: list[dict[str, Any]], key: str) -> float | None:
    values = [s[key] for s in samples if isinstance(s.get(key), int | float)]
    return statistics.median(values) if values else None


def measure_metaflow(side: Side, reps: int) -> dict[str, Any]:
    """Metaflow runs each flow as a CLI that starts a process per step: whole-process
    wall times (process start and import included), compared with the plain script's."""
    base = random.randrange(10**6, 10**9) * 1000
    out: dict[str, Any] = {}
    print(f"[{side.name}] linear x{reps}", file=sys.stderr)
    lin = [side.flow("metaflow_linear.py", "--seed", base + 500_000 + i * 2000)
           for i in range(reps)]
    wall = _median(lin, "wall_s")
    out["linear_run1_s"] = wall
    out["step_overhead_ms"] = None if wall is None else wall / 20 * 1000
    print(f"[{side.name}] train vs plain x{reps} (wall, interleaved)", file=sys.stderr)
    train, plain = [], []
    for _ in range(reps):
        train.append(side.flow("metaflow_train.py"))
        plain.append(side.plain_train())
    out["train_wall_s"] = _median(train, "wall_s")
    out["plain_wall_s"] = _median(plain, "wall_s")
    if out["train_wall_s"] and out["plain_wall_s"]:
        out["train_ratio"] = out["train_wall_s"] / out["plain_wall_s"]
    print(f"[{side.name}] fan-out x{reps}", file=sys.stderr)
    fan = []
    for i in range(reps):
        log = side.home / f"fanout_{base}_{i}.log"
        rec = side.flow("metaflow_fanout.py", "--log_path", log)
        rec["max_concurrency"] = _concurrency(log)
        rec["n_pids"] = _pids(log)
        fan.append(rec)
    out["fanout_run_s"] = _median(fan, "wall_s")
    out["fanout_concurrency"] = _median(fan, "max_concurrency")
    out["fanout_pids"] = _median(fan, "n_pids")
    return out


def _harness_common() -> Any:
    """The harness's ``common`` module (its log-reading helpers), imported from HARNESS."""
    if str(HARNESS) not in sys.path:
        sys.path.append(str(HARNESS))
    import common

    return common


def _concurrency(log: Path) -> int:
    return int(_harness_common().max_concurrency(str(log)))


def _pids(log: Path) -> int:
    return int(_harness_common().n_pids(str(log)))


def measure(side: Side, reps: int) -> dict[str, Any]:
    if side.name == "metaflow":
        return measure_metaflow(side, reps)
    base = random.randrange(10**6, 10**9) * 1000
    out: dict[str, Any] = {}
    print(f"[{side.name}] linear (2 cold runs per process) x{reps}", file=sys.stderr)
    lin = [side.run("linear2", base + 500_000 + i * 2000, base + 501_000 + i * 2000)
           for i in range(reps)]
    run2 = _median(lin, "run2_s")
    out["linear_run1_s"] = _median(lin, "run1_s")
    out["linear_run2_s"] = run2
    out["step_overhead_ms"] = None if run2 is None else run2 / 20 * 1000
    if side.name == "kiln":
        print(f"[{side.name}] cached re-run x{reps}", file=sys.stderr)
        cached = [side.run("cached", base + 700_000 + i * 2000) for i in range(reps)]
        out["cached_rerun_s"] = _median(cached, "cached_s")
        out["cached_steps"] = _median(cached, "cached_steps")
        fresh = []
        for i in range(reps):  # the re-run as a new process (a CI job, `kiln pipeline run`)
            home = tempfile.mkdtemp(prefix="kiln-bench-", dir=side.home)
            side.run("linear", base + 750_000 + i * 2000, kiln_home=home)
            fresh.append(side.run("linear", base + 750_000 + i * 2000, kiln_home=home))
        out["cached_fresh_run_s"] = _median(fresh, "run_s")
        out["cached_fresh_wall_s"] = _median(fresh, "wall_s")
    elif side.name == "prefect":
        print(f"[{side.name}] cached re-run x{reps} (cache_policy=INPUTS + TASK_SOURCE)",
              file=sys.stderr)
        seconds = []
        for i in range(reps):
            seed = base + 800_000 + i * 2000
            side.run("linear_cache", seed)
            seconds.append(side.run("linear_cache", seed))
        out["cached_rerun_s"] = _median(seconds, "run_s")
    elif side.name == "zenml":
        print(f"[{side.name}] cached re-run x{reps}", file=sys.stderr)
        seconds = []
        for i in range(reps):
            seed = base + 800_000 + i * 2000
            side.run("linear", seed)
            seconds.append(side.run("linear", seed))
        out["cached_rerun_s"] = _median(seconds, "run_s")
    print(f"[{side.name}] train vs plain x{reps} (interleaved)", file=sys.stderr)
    train, plain = [], []
    for _ in range(reps):  # alternate, so both see the same load on a shared machine
        train.append(side.run("train"))
        plain.append(side.plain_train())
    out["train_run_s"] = _median(train, "run_s")
    out["plain_run_s"] = _median(plain, "run_s")
    out["train_wall_s"] = _median(train, "wall_s")
    out["plain_wall_s"] = _median(plain, "wall_s")
    if out["train_run_s"] and out["plain_run_s"]:
        out["train_ratio"] = out["train_run_s"] / out["plain_run_s"]
    if out["train_wall_s"] and out["plain_wall_s"]:
        out["train_wall_ratio"] = out["train_wall_s"] / out["plain_wall_s"]
    print(f"[{side.name}] fan-out x{reps}", file=sys.stderr)
    fan = []
    for i in range(reps):
        log = side.home / f"fanout_{base}_{i}.log"
        fan.append(side.run("fanout", log, *(["process"] if side.name == "kiln" else [])))
    out["fanout_run_s"] = _median(fan, "run_s")
    out["fanout_concurrency"] = _median(fan, "max_concurrency")
    out["fanout_pids"] = _median(fan, "n_pids")
    if side.name == "kiln":
        out["fanout_copies"] = _median(fan, "copied")
    return out


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def report(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    rows = [
        ("per-step overhead, 20-step linear (ms)", "step_overhead_ms"),
        ("first cold 20-step run in a process (s)", "linear_run1_s"),
        ("fully cached re-run of 20 steps (s)", "cached_rerun_s"),
        ("cached re-run in a new process: run (s)", "cached_fresh_run_s"),
        ("cached re-run in a new process: whole process (s)", "cached_fresh_wall_s"),
        ("training pipeline (s, in-process)", "train_run_s"),
        ("same code as a plain script (s)", "plain_run_s"),
        ("training pipeline, whole process (s)", "train_wall_s"),
        ("plain script, whole process (s)", "plain_wall_s"),
        ("training / plain script (in-process; Metaflow: whole process)", "train_ratio"),
        ("training / plain script, whole process", "train_wall_ratio"),
        ("fan-out of 10 MiB to 8 steps (s)", "fanout_run_s"),
        ("fan-out: consumers overlapping", "fanout_concurrency"),
        ("fan-out: worker processes", "fanout_pids"),
        ("fan-out: steps that got a copy", "fanout_copies"),
    ]
    lines = ["| measure | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, key in rows:
        lines.append(f"| {label} | " + " | ".join(_fmt(results[n].get(key)) for n in names)
                     + " |")
    kiln = results["kiln"]
    for name in names:
        if name != "metaflow":
            results[name].setdefault("train_wall_ratio", None)
    if "metaflow" in results:
        results["metaflow"]["train_wall_ratio"] = results["metaflow"].get("train_ratio")
    lines.append("")
    for peer in names[1:]:
        p = results[peer]
        if kiln.get("step_overhead_ms") and p.get("step_overhead_ms"):
            lines.append(f"per-step overhead: {peer} / kiln = "
                         f"{p['step_overhead_ms'] / kiln['step_overhead_ms']:.1f}x")
        if kiln.get("cached_rerun_s") and p.get("cached_rerun_s"):
            lines.append(f"cached re-run: {peer} / kiln = "
                         f"{p['cached_rerun_s'] / kiln['cached_rerun_s']:.1f}x")
        if p.get("train_ratio"):
            lines.append(f"training pipeline vs plain script: {peer} {p['train_ratio']:.2f}x")
    lines.append("")
    checks = [
        ("per-step overhead <= 2 ms", kiln.get("step_overhead_ms"), GOALS["step_overhead_ms"]),
        ("cached re-run < 0.1 s", kiln.get("cached_rerun_s"), GOALS["cached_rerun_s"]),
        ("training within 1.3x of the plain script", kiln.get("train_ratio"),
         GOALS["train_ratio"]),
    ]
    for label, value, goal in checks:
        ok = value is not None and value <= goal
        lines.append(f"goal {label}: kiln {_fmt(value)} -> {'met' if ok else 'NOT met'}")
    conc, copies = kiln.get("fanout_concurrency"), kiln.get("fanout_copies")
    fan_ok = conc is not None and conc >= 2 and copies == 0
    lines.append(f"goal fan-out on both cores without copies: overlap {_fmt(conc)}, copies "
                 f"{_fmt(copies)} -> {'met' if fan_ok else 'NOT met'}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", default="prefect,metaflow",
                    help="comma-separated: dagster, zenml, prefect, metaflow ('' for none)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one sample each, kiln only")
    ap.add_argument("--reuse", default="",
                    help="comma-separated sides whose saved results (bench/results/"
                         "pipelines-SIDE.json) to report instead of measuring again")
    args = ap.parse_args()
    reps = 1 if args.quick else args.reps
    peers = [] if args.quick else [p for p in args.peers.split(",") if p]
    work = Path(tempfile.mkdtemp(prefix="kiln-bench-pipelines-"))
    sides = [Side("kiln", sys.executable, HERE / "kiln_pipelines.py", work / "kiln")]
    for peer in peers:
        python = ensure_peer(peer)
        script = HARNESS / ("metaflow_linear.py" if peer == "metaflow" else f"{peer}_bench.py")
        sides.append(Side(peer, str(python), script, peer_dir(peer)))
    RESULTS.mkdir(exist_ok=True)
    # kiln as a wheel install has its bytecode compiled, like the peers' site-packages; an
    # editable install under PYTHONDONTWRITEBYTECODE=1 would compile every module in every
    # sample process otherwise
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src" / "kiln")],
                   check=False)
    results: dict[str, dict[str, Any]] = {}
    loads: list[float] = []
    reuse = {p for p in args.reuse.split(",") if p}
    for side in sides:
        saved = RESULTS / f"pipelines-{side.name}.json"
        if side.name in reuse and saved.is_file():
            print(f"[{side.name}] reusing {saved}", file=sys.stderr)
            results[side.name] = json.loads(saved.read_text())
            continue
        loads.append(os.getloadavg()[0])
        results[side.name] = measure(side, reps)
        loads.append(os.getloadavg()[0])
        # each side as soon as it is measured: a later failure loses nothing
        (RESULTS / f"pipelines-{side.name}.json").write_text(
            json.dumps(results[side.name], indent=1))
    meta = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "reps": reps,
            "load1": os.getloadavg()[0], "load1_min": min(loads, default=None),
            "load1_max": max(loads, default=None),
            "cpus": os.cpu_count()}
    if loads:
        print(f"1-minute load average while measuring: {min(loads):.1f}-{max(loads):.1f} on "
              f"{os.cpu_count()} CPUs")
    (RESULTS / "pipelines.json").write_text(json.dumps({"meta": meta, **results}, indent=1))
    print(report(results))


if __name__ == "__main__":
    main()
