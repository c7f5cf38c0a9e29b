"""Serving benchmark: kiln serve vs MLServer, `mlflow models serve` and BentoML, one run.

Same scikit-learn model (LogisticRegression(max_iter=5000) on load_breast_cancer), single-row
requests with wrk on loopback (keep-alive, -t1), one worker each. Per server: launch to first
answer, idle memory (RSS summed over the process tree), requests/s and p99 at concurrency 1
and 16, one 10,000-row request, memory after load. kiln runs twice: a plain deployment, and
with A/B routing + a shadow route + prediction logging all on. Then batch inference of
1,000,000 rows (``kiln predict``'s code path) vs the raw model's predict on the same frame.

Peers are pip-installed into their own venvs under ${KILN_BENCH_PEERS:-~/.cache/kiln-bench};
the peer harnesses in /work/shared/peer-bench/{serving,mlflow} make their models and bodies.

    python bench/bench_serving.py                       # ~6 min with all peers
    python bench/bench_serving.py --duration 5 --peers mlserver   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

PEERS = Path(os.environ.get("KILN_BENCH_PEERS", Path.home() / ".cache" / "kiln-bench"))
HARNESS = Path(os.environ.get("KILN_PEER_HARNESS", "/work/shared/peer-bench"))
WORK = PEERS / "serving-kiln"
GOALS = {"c16_ratio": 1.5, "c16_p99_ms": 35.0, "c1_p99_ms": 3.0, "launch_s": 1.0,
         "idle_mb": 150.0, "big_ms": 30.0, "batch_ratio": 1.3}


def sh(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- peers' venvs ---------------------------------------------------------------------------
def venv(name: str, packages: list[str], sub: str = "") -> Path:
    root = PEERS / name / sub if sub else PEERS / name
    py = root / "bin" / "python"
    marker = root / ".kiln-bench-ok"
    if not marker.exists():
        print(f"installing {name} into {root} ...", flush=True)
        if not py.exists():
            sh([sys.executable, "-m", "venv", str(root)])
        sh([str(root / "bin" / "pip"), "install", "-q", *packages], timeout=1800)
        marker.write_text("ok")
    return root


# -- measuring a server ---------------------------------------------------------------------
def tree_rss_mb(pid: int) -> float:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def post(url: str, body: bytes, timeout: float = 120) -> tuple[int, bytes]:
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def wrk(url: str, lua: Path, conc: int, duration: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t1", f"-c{conc}", f"-d{duration}s", "--latency", "-s",
                          str(lua), url], capture_output=True, text=True,
                         timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "non2xx": float(bad.group(1)) if bad else 0,
            "socket_errors": 1.0 if errors else 0.0}


def _ms(text: str) -> float:
    value, unit = float(re.match(r"[\d.]+", text).group(0)), text.lstrip("0123456789.")  # type: ignore[union-attr]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def lua_for(body: bytes, path: Path) -> Path:
    path.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    f"wrk.body = {json.dumps(body.decode())}\n")
    return path


def measure(name: str, cmd: list[str], url: str, one: bytes, big: bytes | None,
            duration: int, env: dict[str, str] | None = None, cwd: Path | None = None,
            concurrency: tuple[int, ...] = (1, 16)) -> dict[str, Any]:
    print(f"--- {name}: {' '.join(cmd)[:150]}", flush=True)
    log = open(WORK / f"{name}.log", "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                            start_new_session=True)
    res: dict[str, Any] = {"server": name}
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start; see {WORK / (name + '.log')}")
            try:
                if post(url, one, timeout=5)[0] == 200:
                    break
            except Exception:
                time.sleep(0.02)
        res["launch_s"] = time.perf_counter() - t0
        time.sleep(3)
        res["idle_mb"] = tree_rss_mb(proc.pid)
        lua = lua_for(one, WORK / f"{name}.lua")
        for c in concurrency:
            res[f"c{c}"] = wrk(url, lua, c, duration)
            print(f"    c={c}: {res[f'c{c}']}", flush=True)
        if big is not None:
            times = []
            for _ in range(5):
                t = time.perf_counter()
                status, _ = post(url, big)
                times.append((time.perf_counter() - t) * 1000)
                assert status == 200
            res["big_ms"] = statistics.median(times)
        res["loaded_mb"] = tree_rss_mb(proc.pid)
        print(f"    launch {res['launch_s']:.2f} s, idle {res['idle_mb']:.0f} MB, after load "
              f"{res['loaded_mb']:.0f} MB, 10k rows {res.get('big_ms', float('nan')):.1f} ms",
              flush=True)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own session, started above
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    return res


# -- the model and the bodies -----------------------------------------------------------------
def v2_body(rows: Any) -> bytes:
    return json.dumps({"inputs": [{"name": "predict", "shape": list(rows.shape),
                                   "datatype": "FP64", "data": rows.ravel().tolist()}]}).encode()


def kiln_setup(home: Path) -> tuple[Any, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    from kiln.workspace import Workspace

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(X, y)
    ws = Workspace(home=home)
    for _ in range(3):
        ws.log_model(None, model, "bc", input_example=X.head(3))
    ws.set_alias("bc", "production", 1)
    ws.set_alias("bc", "challenger", 2)
    ws.create_deployment("plain", ["bc@production:100"])
    ws.create_deployment("full", ["bc@production:90", "bc@challenger:10"], ["bc/3"])
    ws.close()
    return X, model


def batch_bench(home: Path, X: Any, model: Any, rows: int) -> dict[str, float]:
    import numpy as np
    import pandas as pd

    from kiln.workspace import Workspace

    rng = np.random.default_rng(0)
    big = pd.DataFrame(X.values[rng.integers(0, len(X), rows)], columns=X.columns)
    src = WORK / "batch_in.parquet"
    big.to_parquet(src)
    t = time.perf_counter()
    model.predict(big)
    raw = time.perf_counter() - t
    t = time.perf_counter()
    pd.read_parquet(src).pipe(model.predict)
    raw_io = time.perf_counter() - t
    ws = Workspace(home=home)
    res = ws.batch_predict("bc@production", src, WORK / "batch_out.parquet", chunk_size=250_000)
    ws.close()
    return {"rows": rows, "raw_predict_s": raw, "raw_read_predict_s": raw_io,
            "kiln_s": res.seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--peers", default="mlserver,mlflow,bentoml")
    parser.add_argument("--rows", type=int, default=1_000_000, help="batch inference rows")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="kiln-bench-serving-"))
    X, model = kiln_setup(home)
    import numpy as np

    rng = np.random.default_rng(0)
    one_v2, big_v2 = v2_body(X.values[:1]), v2_body(X.values[rng.integers(0, len(X), 10_000)])
    one_rec = json.dumps({"records": X.head(1).to_dict(orient="records")}).encode()
    results: list[dict[str, Any]] = []
    kiln_bin = str(Path(sys.executable).parent / "kiln")
    env = {**os.environ, "KILN_HOME": str(home)}
    for dep, extra in (("plain", ["--no-log"]), ("full", [])):
        port = free_port()
        r = measure(f"kiln-{dep}", [kiln_bin, "serve", dep, "--port", str(port), *extra],
                    f"http://127.0.0.1:{port}/predict", one_rec, None, args.duration, env=env)
        # the 10,000-row request on the same body format as MLServer (v2 tensor)
        port = free_port()
        r2 = measure(f"kiln-{dep}-10k", [kiln_bin, "serve", dep, "--port", str(port), *extra],
                     f"http://127.0.0.1:{port}/v2/models/{dep}/infer", one_v2, big_v2, 1,
                     env=env, concurrency=())
        r["big_ms"] = r2["big_ms"]
        results.append(r)
    peers = [p for p in args.peers.split(",") if p]
    if "mlserver" in peers:
        v = venv("mlserver", ["mlserver", "mlserver-sklearn", "scikit-learn", "uvloop<0.22"])
        penv = {**os.environ, "PEERS": str(PEERS), "PATH": f"{v}/bin:{os.environ['PATH']}"}
        port = free_port()
        penv["MLS_PORT"] = str(port)
        sh([str(v / "bin/python"), str(HARNESS / "serving/make_model.py"), "mlserver"], env=penv)
        url = f"http://127.0.0.1:{port}/v2/models/breast-cancer/infer"
        for mode in ("nobatch", "batch"):
            results.append(measure(f"mlserver-{mode}", [str(v / "bin/mlserver"), "start",
                                   str(PEERS / f"serving/mls_repo_{mode}")], url, one_v2,
                                   big_v2, args.duration, env=penv, cwd=WORK))
    if "mlflow" in peers:
        v = venv("mlflow", ["mlflow", "scikit-learn", "httpx"], sub="venv")
        mdir = WORK / "mlflow_model"
        if not mdir.exists():
            sh([str(v / "bin/python"), "-c",
                "import sys, mlflow.sklearn; from sklearn.datasets import load_breast_cancer; "
                "from sklearn.linear_model import LogisticRegression; "
                "X, y = load_breast_cancer(return_X_y=True, as_frame=True); "
                "m = LogisticRegression(max_iter=5000).fit(X, y); "
                "mlflow.sklearn.save_model(m, sys.argv[1], input_example=X.head(3))",
                str(mdir)])
        port = free_port()
        split = {"dataframe_split": {"columns": list(X.columns), "data": X.values[:1].tolist()}}
        big_split = {"dataframe_split": {"columns": list(X.columns),
                                         "data": X.values[rng.integers(0, len(X), 10_000)]
                                         .tolist()}}
        penv = {**os.environ, "PATH": f"{v}/bin:{os.environ['PATH']}"}
        results.append(measure("mlflow", [str(v / "bin/mlflow"), "models", "serve", "-m",
                                          str(mdir), "--env-manager", "local", "-p", str(port),
                                          "-h", "127.0.0.1"],
                               f"http://127.0.0.1:{port}/invocations",
                               json.dumps(split).encode(), json.dumps(big_split).encode(),
                               args.duration, env=penv, cwd=WORK))
    if "bentoml" in peers:
        v = venv("bentoml", ["bentoml", "scikit-learn", "pandas"])
        bhome = PEERS / "serving" / "bentohome"
        penv = {**os.environ, "PEERS": str(PEERS), "BENTOML_HOME": str(bhome),
                "BENTOML_DO_NOT_TRACK": "True", "PATH": f"{v}/bin:{os.environ['PATH']}"}
        if not (bhome / "models").exists():
            sh([str(v / "bin/python"), str(HARNESS / "serving/make_model.py"), "bentoml"],
               env=penv)
        port = free_port()
        rows = {"rows": X.values[:1].tolist()}
        big_rows = {"rows": X.values[rng.integers(0, len(X), 10_000)].tolist()}
        results.append(measure("bentoml", [str(v / "bin/bentoml"), "serve",
                                           "bento_service:BreastCancer", "--working-dir",
                                           str(HARNESS / "serving"), "--host", "127.0.0.1",
                                           "--port", str(port)],
                               f"http://127.0.0.1:{port}/predict", json.dumps(rows).encode(),
                               json.dumps(big_rows).encode(), args.duration, env=penv,
                               cwd=WORK))
    batch = batch_bench(home, X, model, args.rows)
    report(results, batch)
    (WORK / "results.json").write_text(json.dumps({"servers": results, "batch": batch},
                                                  indent=2))
    print(f"raw results: {WORK / 'results.json'}")


def report(results: list[dict[str, Any]], batch: dict[str, float]) -> None:
    print("\n| server | launch s | idle MB | c=1 req/s | c=1 p99 ms | c=16 req/s | c=16 p99 ms "
          "| 10k rows ms | MB after load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c1, c16 = r.get("c1", {}), r.get("c16", {})
        print(f"| {r['server']} | {r['launch_s']:.2f} | {r['idle_mb']:.0f} | "
              f"{c1.get('rps', 0):.0f} | {c1.get('p99_ms', 0):.2f} | {c16.get('rps', 0):.0f} | "
              f"{c16.get('p99_ms', 0):.2f} | {r.get('big_ms', 0):.1f} | {r['loaded_mb']:.0f} |")
    by = {r["server"]: r for r in results}
    peers = [r for r in results if not r["server"].startswith("kiln")]
    print()
    for name in ("kiln-plain", "kiln-full"):
        k = by[name]
        if peers:
            best = max(peers, key=lambda r: r["c16"]["rps"])
            print(f"{name}: c=16 {k['c16']['rps']:.0f} req/s = "
                  f"{k['c16']['rps'] / best['c16']['rps']:.2f}x the fastest peer "
                  f"({best['server']}, {best['c16']['rps']:.0f}); goal >= {GOALS['c16_ratio']}x"
                  f" (plain)")
            worst = min(k["c16"]["rps"] / r["c16"]["rps"] for r in peers)
            print(f"{name}: ahead of every peer at c=16: {worst >= 1.0} "
                  f"(lowest ratio {worst:.2f}x)")
        print(f"{name}: c=16 p99 {k['c16']['p99_ms']:.1f} ms (goal < {GOALS['c16_p99_ms']}), "
              f"c=1 p99 {k['c1']['p99_ms']:.2f} ms (goal < {GOALS['c1_p99_ms']}), launch "
              f"{k['launch_s']:.2f} s (goal < {GOALS['launch_s']}), idle {k['idle_mb']:.0f} MB "
              f"(goal < {GOALS['idle_mb']}), 10k rows {k['big_ms']:.1f} ms "
              f"(goal < {GOALS['big_ms']})")
    print(f"batch inference of {batch['rows']:,} rows: kiln {batch['kiln_s']:.2f} s (read, "
          f"check, predict, write Parquet) vs raw predict {batch['raw_predict_s']:.2f} s = "
          f"{batch['kiln_s'] / batch['raw_predict_s']:.2f}x (goal <= {GOALS['batch_ratio']}x); "
          f"vs raw read+predict {batch['raw_read_predict_s']:.2f} s = "
          f"{batch['kiln_s'] / batch['raw_read_predict_s']:.2f}x")


if __name__ == "__main__":
    main()
