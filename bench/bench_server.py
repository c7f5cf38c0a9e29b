"""kiln server vs ``mlflow server``, same machine, same run: start time, idle memory,
log_metric over HTTP, and the runs page with 100,000 runs.

    .venv/bin/python bench/bench_server.py            # full
    .venv/bin/python bench/bench_server.py --quick    # 10,000 runs, fewer points

MLflow comes from the venv the tracking benchmark made under
${KILN_BENCH_PEERS:-~/.cache/kiln-bench}/mlflow/venv (not reinstalled here); its
log_metric loop is /work/shared/peer-bench/mlflow/tracking_bench.py part (a).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PEERS = Path(os.environ.get("KILN_BENCH_PEERS", Path.home() / ".cache" / "kiln-bench"))
MLFLOW_VENV = PEERS / "mlflow" / "venv"
HARNESS = Path("/work/shared/peer-bench/mlflow")
KILN = Path(sys.executable).parent / "kiln"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree() -> tuple[list[tuple[int, ...]], dict[int, int]]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True)
    rows = [tuple(int(x) for x in line.split()) for line in out.stdout.splitlines() if line]
    return rows, {r[0]: r[2] for r in rows}


def descendants(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    rows, _ = _tree()
    wanted, grew = {pid}, True
    while grew:
        grew = False
        for p, pp, _ in rows:
            if pp in wanted and p not in wanted:
                wanted.add(p)
                grew = True
    return wanted


def tree_rss_kb(pid: int) -> int:
    _, rss = _tree()
    return sum(rss.get(p, 0) for p in descendants(pid))


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process tree has used: the start cost without the
    machine's other load, which on a shared 2-core box inflates wall-clock times."""
    total = 0
    for p in descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def start(cmd: list[str], health: str, env: dict[str, str], cwd: Path
          ) -> tuple[subprocess.Popen[bytes], float]:
    import httpx

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    while True:
        try:
            if httpx.get(health, timeout=1).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}")
        time.sleep(0.02)


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def bench_mlflow(work: Path) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "PEERS": str(PEERS)}
    cmd = [str(MLFLOW_VENV / "bin" / "mlflow"), "server", "--backend-store-uri",
           f"sqlite:///{work / 'mlflow.db'}", "--default-artifact-root", str(work / "mlart"),
           "--host", "127.0.0.1", "--port", str(port)]
    proc, started = start(cmd, f"http://127.0.0.1:{port}/health", env, work)
    try:
        start_cpu = cpu_s(proc.pid)
        time.sleep(3)
        idle = tree_rss_kb(proc.pid)
        out = subprocess.run([str(MLFLOW_VENV / "bin" / "python"),
                              str(HARNESS / "tracking_bench.py"), f"http://127.0.0.1:{port}", "a",
                              "1"], env=env, capture_output=True, text=True, timeout=900)
    finally:
        stop(proc)
    m = re.search(r"a_log_metric_calls_per_s ([\d.]+)", out.stdout)
    if m is None:
        raise RuntimeError(f"mlflow harness failed: {out.stderr[-500:]}")
    return {"start_s": started, "start_cpu_s": start_cpu, "idle_rss_mb": idle / 1024,
            "log_metric_per_s": float(m.group(1))}


def populate(db_url: str, n_runs: int) -> None:
    """n_runs runs with 2 params and 3 metrics each, written in bulk."""
    import random

    from kiln.metadata import schema as t
    from kiln.metadata.sql import SqlMetadataStore

    store = SqlMetadataStore(db_url)
    exp = store.get_or_create_experiment("bench").experiment_id
    rnd = random.Random(0)
    with store.engine.begin() as conn:
        for lo in range(0, n_runs, 10_000):
            runs, params, latest = [], [], []
            for i in range(lo, min(lo + 10_000, n_runs)):
                rid = uuid.uuid4().hex
                runs.append({"run_id": rid, "experiment_id": exp, "name": f"run-{i}",
                             "status": "FINISHED", "start_time": 1_700_000_000_000 + i,
                             "end_time": 1_700_000_000_100 + i, "user": "bench",
                             "parent_run_id": None, "error": None})
                params += [{"run_id": rid, "key": k, "value": str(rnd.choice([0.1, 1, 10])),
                            "experiment_id": exp} for k in ("C", "l1")]
                latest += [{"run_id": rid, "key": k, "value": rnd.random(), "step": 0,
                            "timestamp": 1, "experiment_id": exp} for k in ("auc", "f1", "loss")]
            conn.execute(t.runs.insert(), runs)
            conn.execute(t.params.insert(), params)
            conn.execute(t.latest_metrics.insert(), latest)
            conn.execute(t.metrics.insert(), [{k: v for k, v in row.items()
                                               if k != "experiment_id"} for row in latest])
    store.close()


def bench_kiln(work: Path, n_runs: int, n_points: int, starts: int) -> dict[str, float]:
    port = free_port()
    db_url = f"sqlite:///{work / 'kiln.db'}"
    env = {**os.environ, "KILN_HOME": str(work / ".kiln"), "KILN_DB_URL": db_url}
    env.pop("KILN_SERVER", None)
    # migrate first so the start time is the server's, as for an existing MLflow database
    subprocess.run([str(KILN), "users", "list"], env=env, capture_output=True, check=True)
    cmd = [str(KILN), "server", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    # The median of several starts: on a shared machine one start can wait for a core.
    walls, cpus = [], []
    for _ in range(starts - 1):
        proc, started = start(cmd, f"{url}/api/v1/health", env, work)
        walls.append(started)
        cpus.append(cpu_s(proc.pid))
        stop(proc)
    proc, started = start(cmd, f"{url}/api/v1/health", env, work)
    try:
        got = _measure_kiln(proc, started, url, env, db_url, n_runs, n_points)
    finally:
        stop(proc)
    walls.append(got["start_s"])
    cpus.append(got["start_cpu_s"])
    got["start_s"], got["start_cpu_s"] = statistics.median(walls), statistics.median(cpus)
    print(f"kiln server starts (s, wall): {', '.join(f'{w:.2f}' for w in walls)}; "
          f"CPU: {', '.join(f'{c:.2f}' for c in cpus)}")
    return got


def _measure_kiln(proc: subprocess.Popen[bytes], started: float, url: str,
                  env: dict[str, str], db_url: str, n_runs: int, n_points: int
                  ) -> dict[str, float]:
    import httpx

    start_cpu = cpu_s(proc.pid)
    time.sleep(3)
    idle = tree_rss_kb(proc.pid)
    code = (
        "import time, kiln\n"
        f"ws = kiln.Workspace(); kiln.use_workspace(ws)\n"
        "with kiln.start_run(experiment='log') as run:\n"
        "    t0 = time.perf_counter()\n"
        f"    for i in range({n_points}):\n"
        "        kiln.log_metric('m', i * 0.5, step=i)\n"
                "dt = time.perf_counter() - t0\n"
        f"assert len(ws.get_metric_history(run.run_id, 'm')) == {n_points}\n"
        f"print({n_points} / dt)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**env, "KILN_SERVER": url},
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-800:])
    per_s = float(out.stdout.strip().splitlines()[-1])
    populate(db_url, n_runs)
    pages = {}
    for label, params in [
        ("runs_page_newest_s", {"experiment": "bench"}),
        ("runs_page_sorted_by_metric_s", {"experiment": "bench", "order_by": "metrics.auc DESC"}),
        ("runs_page_filtered_s", {"experiment": "bench",
                                  "filter": "metrics.auc > 0.5 and params.C = '1'"}),
        ("runs_page_middle_s", {"experiment": "bench", "page": str(n_runs // 100)}),
    ]:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            r = httpx.get(f"{url}/runs", params=params, timeout=60)
            best = min(best, time.perf_counter() - t0)
            assert r.status_code == 200 and "run-" in r.text, r.text[:300]
        pages[label] = best
    return {"start_s": started, "start_cpu_s": start_cpu, "idle_rss_mb": idle / 1024,
            "log_metric_per_s": per_s, **pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--starts", type=int, default=5,
                        help="kiln server starts to take the median of (default 5)")
    args = parser.parse_args()
    n_runs = 10_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory(prefix="kiln-bench-server-") as tmp:
        work = Path(tmp)
        kiln = bench_kiln(work, n_runs, 20_000 if args.quick else 100_000, args.starts)
        peer = None if args.skip_peer else bench_mlflow(work)
    print(f"{'measure':34} {'kiln':>12} {'mlflow':>12} {'ratio':>10}")
    for key, better in (("start_s", "lower"), ("start_cpu_s", "lower"), ("idle_rss_mb", "lower"),
                        ("log_metric_per_s", "higher")):
        k = kiln[key]
        p = peer[key] if peer else float("nan")
        ratio = (p / k) if better == "lower" else (k / p)
        print(f"{key:34} {k:12.2f} {p:12.2f} {ratio:9.1f}x")
    for key in kiln:
        if key.startswith("runs_page"):
            print(f"{key + f' ({n_runs:,} runs)':34} {kiln[key]:12.3f}")


if __name__ == "__main__":
    main()
