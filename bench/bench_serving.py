"""Serving benchmark: kiln serve vs MLServer, `mlflow models serve` and BentoML, one run.

Same scikit-learn model (LogisticRegression(max_iter=5000) on load_breast_cancer), single-row
requests with wrk on loopback (keep-alive, -t1), one worker each. Per server: launch to first
answer, idle memory (RSS summed over the process tree), requests/s and p99 at concurrency 1
and 16, one 10,000-row request, memory after load. kiln runs twice: a plain deployment, and
with A/B routing + a shadow route + prediction logging all on. Then batch inference of
1,000,000 rows (``kiln predict``'s code path) vs the raw model's predict on the same frame.

Peers are pip-installed into their own venvs under ${KILN_BENCH_PEERS:-~/.cache/kiln-bench};
the peer harnesses in /work/shared/peer-bench/{serving,mlflow} make their models and bodies.

    python bench/bench_serving.py                       # ~20 min with all peers, 2 rounds
    python bench/bench_serving.py --duration 5 --rounds 1 --peers mlserver --soak 0 # quicker
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
def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_mem_mb(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private clean + dirty) summed over the process tree, in MB, from
    /proc/PID/smaps_rollup (no psutil)."""
    total = {"rss": 0.0, "pss": 0.0, "uss": 0.0}
    for p in _tree(pid):
        try:
            fields = {line.split()[0]: int(line.split()[1]) for line in
                      Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()[1:]}
        except (OSError, IndexError, ValueError):
            continue
        total["rss"] += fields.get("Rss:", 0) / 1024
        total["pss"] += fields.get("Pss:", 0) / 1024
        total["uss"] += (fields.get("Private_Clean:", 0) + fields.get("Private_Dirty:", 0)) / 1024
    return total


def tree_rss_mb(pid: int) -> float:
    return tree_mem_mb(pid)["rss"]


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


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
    total = re.search(r"(\d+) requests in", out)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "non2xx": float(bad.group(1)) if bad else 0,
            "socket_errors": 1.0 if errors else 0.0, "requests": float(total.group(1)) if total
            else 0.0, "load1": load1()}


def _ms(text: str) -> float:
    value, unit = float(re.match(r"[\d.]+", text).group(0)), text.lstrip("0123456789.")  # type: ignore[union-attr]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def lua_for(body: bytes, path: Path) -> Path:
    path.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    f"wrk.body = {json.dumps(body.decode())}\n")
    return path


def measure(name: str, cmd: list[str], url: str, one: bytes, big: bytes | None,
            duration: int, env: dict[str, str] | None = None, cwd: Path | None = None,
            concurrency: tuple[int, ...] = (1, 16), big_url: str | None = None,
            soak: int = 0) -> dict[str, Any]:
    """Launch, wait for the first 200, then idle memory, wrk at each concurrency, the big
    request, memory after load; with ``soak`` > 0, then c=16 load in 10 s slices until
    ``soak`` more requests were answered, memory after each slice (the curve)."""
    print(f"--- {name}: {' '.join(cmd)[:150]}", flush=True)
    log = open(WORK / f"{name}.log", "w")  # noqa: SIM115 - closed in the finally below
    res: dict[str, Any] = {"server": name, "load1_start": load1()}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start; see {WORK / (name + '.log')}")
            try:
                if post(url, one, timeout=5)[0] == 200:
                    break
            except Exception:
                time.sleep(0.01)
        res["launch_s"] = time.perf_counter() - t0
        time.sleep(3)
        res["idle"] = tree_mem_mb(proc.pid)
        res["idle_mb"] = res["idle"]["rss"]
        lua = lua_for(one, WORK / f"{name}.lua")
        for c in concurrency:
            res[f"c{c}"] = wrk(url, lua, c, duration)
            print(f"    c={c}: {res[f'c{c}']}", flush=True)
        if big is not None:
            times = []
            for _ in range(7):
                t = time.perf_counter()
                status, _ = post(big_url or url, big)
                times.append((time.perf_counter() - t) * 1000)
                assert status == 200
            res["big_ms"] = statistics.median(times)
        res["loaded"] = tree_mem_mb(proc.pid)
        res["loaded_mb"] = res["loaded"]["rss"]
        if soak:
            curve, served = [(0, res["loaded_mb"])], 0
            while served < soak:
                served += int(wrk(url, lua, 16, 10)["requests"])
                curve.append((served, tree_rss_mb(proc.pid)))
            res["soak_curve"] = curve
            print(f"    soak: {curve}", flush=True)
        res["load1_end"] = load1()
        print(f"    launch {res['launch_s']:.2f} s, idle {res['idle_mb']:.0f} MB RSS / "
              f"{res['idle']['pss']:.0f} PSS / {res['idle']['uss']:.0f} USS, after load "
              f"{res['loaded_mb']:.0f} MB, 10k rows {res.get('big_ms', float('nan')):.1f} ms, "
              f"load {res['load1_start']:.1f}-{res['load1_end']:.1f}", flush=True)
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


class NumpyLogReg:
    """The fitted LogisticRegression's decision rule in numpy alone (what its ONNX graph
    computes): served without scikit-learn or pandas in the process (``kiln-numpy``)."""

    def __init__(self, model: Any) -> None:
        self.coef = model.coef_.ravel().copy()
        self.intercept = float(model.intercept_[0])
        self.classes = model.classes_.copy()

    def predict(self, X: Any) -> Any:
        import numpy as np

        X = np.asarray(X, dtype=np.float64)
        return self.classes[(X @ self.coef + self.intercept > 0).astype(np.int64)]


def kiln_setup(home: Path) -> tuple[Any, Any, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from kiln.workspace import Workspace

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(X, y)
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y)
    ws = Workspace(home=home)
    for _ in range(3):
        ws.log_model(None, model, "bc", input_example=X.head(3))
    ws.set_alias("bc", "production", 1)
    ws.set_alias("bc", "challenger", 2)
    ws.create_deployment("plain", ["bc@production:100"])
    ws.create_deployment("full", ["bc@production:90", "bc@challenger:10"], ["bc/3"])
    ws.log_model(None, NumpyLogReg(model), "bc-numpy", input_example=X.head(3),
                 flavor="pyfunc")
    ws.set_alias("bc-numpy", "production", 1)
    ws.create_deployment("numpy", ["bc-numpy@production:100"])
    ws.log_model(None, forest, "rf", input_example=X.head(3))
    ws.set_alias("rf", "production", 1)
    # the same LogisticRegression with its checked ONNX conversion (kiln models convert):
    # the server then runs ONNX Runtime and never imports scikit-learn (``kiln-onnx``)
    from kiln.registry.convert import convert_to_onnx

    ws.log_model(None, model, "bc-onnx", input_example=X.head(3))
    convert_to_onnx(ws, "bc-onnx", 1)
    ws.set_alias("bc-onnx", "production", 1)
    ws.create_deployment("onnx", ["bc-onnx@production:100"])
    ws.close()
    return X, model, forest


def batch_bench(home: Path, X: Any, models: dict[str, Any], rows: int) -> dict[str, Any]:
    """``kiln predict``'s code path vs the raw model's predict on the in-memory frame, and
    vs the plain pandas script (read_parquet, predict, to_parquet), per model; and the
    floors: reading the input alone, and the least a script can do (pyarrow read, one
    predict, pyarrow write of the same output)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kiln.workspace import Workspace

    rng = np.random.default_rng(0)
    big = pd.DataFrame(X.values[rng.integers(0, len(X), rows)], columns=X.columns)
    src = WORK / "batch_in.parquet"
    big.to_parquet(src)
    out: dict[str, Any] = {"rows": rows}
    for name, model in models.items():
        t = time.perf_counter()
        model.predict(big)
        raw = time.perf_counter() - t
        t = time.perf_counter()
        table = pq.read_table(src)
        read = time.perf_counter() - t
        matrix = np.column_stack([c.to_numpy() for c in table.columns])
        preds = model.predict(pd.DataFrame(matrix, columns=big.columns, copy=False))
        pq.write_table(table.append_column("prediction", pa.array(preds)),
                       WORK / "batch_arrow.parquet")
        arrow = time.perf_counter() - t
        t = time.perf_counter()
        frame = pd.read_parquet(src)
        frame.assign(prediction=model.predict(frame)).to_parquet(WORK / "batch_pandas.parquet")
        script = time.perf_counter() - t
        ws = Workspace(home=home)
        res = ws.batch_predict(f"{name}@production", src, WORK / "batch_out.parquet")
        ws.close()
        out[name] = {"raw_predict_s": raw, "pandas_script_s": script, "kiln_s": res.seconds,
                     "read_s": read, "arrow_script_s": arrow, "load1": load1()}
        print(f"    batch {name}: raw predict {raw:.2f} s, reading the input alone {read:.2f} s, "
              f"pyarrow script {arrow:.2f} s, pandas script {script:.2f} s, "
              f"kiln {res.seconds:.2f} s", flush=True)
    return out


def servers(args: argparse.Namespace, X: Any, home: Path) -> list[dict[str, Any]]:
    """Every server to measure: name, command, URL, bodies, env (peers in their venvs)."""
    import numpy as np

    rng = np.random.default_rng(0)
    big_rows = X.values[rng.integers(0, len(X), 10_000)]
    one_v2, big_v2 = v2_body(X.values[:1]), v2_body(big_rows)
    one_rec = json.dumps({"records": X.head(1).to_dict(orient="records")}).encode()
    kiln_bin = str(Path(sys.executable).parent / "kiln")
    env = {**os.environ, "KILN_HOME": str(home)}
    out = []
    for dep, extra in (("plain", ["--no-log"]), ("full", []), ("numpy", ["--no-log"]),
                       ("onnx", ["--no-log"])):
        port = free_port()
        out.append({"name": f"kiln-{dep}", "url": f"http://127.0.0.1:{port}/predict",
                    "cmd": [kiln_bin, "serve", dep, "--port", str(port), *extra],
                    "one": one_rec, "big": big_v2, "env": env,
                    "big_url": f"http://127.0.0.1:{port}/v2/models/{dep}/infer"})
    peers = [p for p in args.peers.split(",") if p]
    if "mlserver" in peers:
        v = venv("mlserver", ["mlserver", "mlserver-sklearn", "scikit-learn", "uvloop<0.22"])
        port = free_port()
        penv = {**os.environ, "PEERS": str(PEERS), "PATH": f"{v}/bin:{os.environ['PATH']}",
                "MLS_PORT": str(port)}
        sh([str(v / "bin/python"), str(HARNESS / "serving/make_model.py"), "mlserver"], env=penv)
        for mode in ("nobatch", "batch"):
            out.append({"name": f"mlserver-{mode}", "cmd": [
                str(v / "bin/mlserver"), "start", str(PEERS / f"serving/mls_repo_{mode}")],
                "url": f"http://127.0.0.1:{port}/v2/models/breast-cancer/infer",
                "one": one_v2, "big": big_v2, "env": penv, "cwd": WORK})
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
        big_split = {"dataframe_split": {"columns": list(X.columns), "data": big_rows.tolist()}}
        out.append({"name": "mlflow", "cmd": [
            str(v / "bin/mlflow"), "models", "serve", "-m", str(mdir), "--env-manager", "local",
            "-p", str(port), "-h", "127.0.0.1"], "url": f"http://127.0.0.1:{port}/invocations",
            "one": json.dumps(split).encode(), "big": json.dumps(big_split).encode(),
            "env": {**os.environ, "PATH": f"{v}/bin:{os.environ['PATH']}"}, "cwd": WORK})
    if "bentoml" in peers:
        v = venv("bentoml", ["bentoml", "scikit-learn", "pandas"])
        bhome = PEERS / "serving" / "bentohome"
        penv = {**os.environ, "PEERS": str(PEERS), "BENTOML_HOME": str(bhome),
                "BENTOML_DO_NOT_TRACK": "True", "PATH": f"{v}/bin:{os.environ['PATH']}"}
        if not (bhome / "models").exists():
            sh([str(v / "bin/python"), str(HARNESS / "serving/make_model.py"), "bentoml"],
               env=penv)
        for mode, extra_env in (("nobatch", {}), ("batch", {"BENTO_BATCH": "1"})):
            port = free_port()
            out.append({"name": f"bentoml-{mode}", "cmd": [
                str(v / "bin/bentoml"), "serve", "bento_service:BreastCancer", "--working-dir",
                str(HARNESS / "serving"), "--host", "127.0.0.1", "--port", str(port)],
                "url": f"http://127.0.0.1:{port}/predict",
                "one": json.dumps({"rows": X.values[:1].tolist()}).encode(),
                # with batching on, BentoML answers a 10,000-row body 503 (max batch 16)
                "big": None if mode == "batch" else json.dumps(
                    {"rows": big_rows.tolist()}).encode(),
                "env": {**penv, **extra_env}, "cwd": WORK})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds over all servers, interleaved (medians are reported)")
    parser.add_argument("--peers", default="mlserver,mlflow,bentoml")
    parser.add_argument("--rows", type=int, default=1_000_000, help="batch inference rows")
    parser.add_argument("--soak", type=int, default=200_000,
                        help="requests of the memory-curve run on kiln-full (0: skip)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="kiln-bench-serving-"))
    X, model, forest = kiln_setup(home)
    specs = servers(args, X, home)
    runs: dict[str, list[dict[str, Any]]] = {s["name"]: [] for s in specs}
    # kiln and the peers take turns, so each sees the same (shared, changing) machine load
    for r in range(args.rounds):
        print(f"=== round {r + 1} of {args.rounds}, load {load1():.1f}", flush=True)
        for spec in specs:
            runs[spec["name"]].append(measure(
                spec["name"], spec["cmd"], spec["url"], spec["one"], spec["big"],
                args.duration, env=spec["env"], cwd=spec.get("cwd"),
                big_url=spec.get("big_url")))
    soak = None
    if args.soak:
        spec = next(s for s in specs if s["name"] == "kiln-full")
        soak = measure("kiln-full-soak", spec["cmd"], spec["url"], spec["one"], None, 1,
                       env=spec["env"], concurrency=(), soak=args.soak)
    batch = batch_bench(home, X, {"bc": model, "rf": forest}, args.rows)
    floor = sklearn_floor(model)
    results = [_median(name, rs) for name, rs in runs.items()]
    report(results, batch, soak, floor)
    (WORK / "results.json").write_text(json.dumps(
        {"servers": results, "runs": runs, "batch": batch, "soak": soak, "floor": floor},
        indent=2))
    print(f"raw results: {WORK / 'results.json'}")


def _median(name: str, rs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure, the median over the rounds."""
    med = statistics.median
    out: dict[str, Any] = {"server": name, "rounds": len(rs)}
    for key in ("launch_s", "idle_mb", "loaded_mb", "big_ms", "load1_start", "load1_end"):
        if all(key in r for r in rs):
            out[key] = med(r[key] for r in rs)
    for key in ("idle", "loaded"):
        out[key] = {k: med(r[key][k] for r in rs) for k in ("rss", "pss", "uss")}
    for c in ("c1", "c16"):
        if all(c in r for r in rs):
            out[c] = {k: med(r[c][k] for r in rs) for k in rs[0][c]}
    return out


def report(results: list[dict[str, Any]], batch: dict[str, Any],
           soak: dict[str, Any] | None, floor: dict[str, float] | None = None) -> None:
    print("\n| server | launch s | idle MB RSS / PSS / USS | c=1 req/s | c=1 p99 ms "
          "| c=16 req/s | c=16 p99 ms | 10k rows ms | MB after load | load1 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c1, c16, idle = r.get("c1", {}), r.get("c16", {}), r["idle"]
        print(f"| {r['server']} | {r['launch_s']:.2f} | {idle['rss']:.0f} / {idle['pss']:.0f} / "
              f"{idle['uss']:.0f} | {c1.get('rps', 0):.0f} | {c1.get('p99_ms', 0):.2f} | "
              f"{c16.get('rps', 0):.0f} | {c16.get('p99_ms', 0):.2f} | {r.get('big_ms', 0):.1f} | "
              f"{r['loaded_mb']:.0f} | {r['load1_start']:.1f} |")
    by = {r["server"]: r for r in results}
    peers = [r for r in results if not r["server"].startswith("kiln")]
    print()
    for name in ("kiln-plain", "kiln-full", "kiln-numpy", "kiln-onnx"):
        k = by.get(name)
        if k is None:
            continue
        if peers:
            best = max(peers, key=lambda r: r["c16"]["rps"])
            print(f"{name}: c=16 {k['c16']['rps']:.0f} req/s = "
                  f"{k['c16']['rps'] / best['c16']['rps']:.2f}x the fastest peer "
                  f"({best['server']}, {best['c16']['rps']:.0f}); goal >= {GOALS['c16_ratio']}x")
            worst = min(peers, key=lambda r: k["c16"]["rps"] / r["c16"]["rps"])
            print(f"{name}: ahead of every peer at c=16: "
                  f"{k['c16']['rps'] >= worst['c16']['rps']} (lowest ratio "
                  f"{k['c16']['rps'] / worst['c16']['rps']:.2f}x, vs {worst['server']})")
        print(f"{name}: c=16 p99 {k['c16']['p99_ms']:.1f} ms (goal < {GOALS['c16_p99_ms']}), "
              f"c=1 p99 {k['c1']['p99_ms']:.2f} ms (goal < {GOALS['c1_p99_ms']}), launch "
              f"{k['launch_s']:.2f} s (goal < {GOALS['launch_s']}), idle {k['idle_mb']:.0f} MB "
              f"RSS (goal < {GOALS['idle_mb']}), 10k rows {k.get('big_ms', 0):.1f} ms "
              f"(goal < {GOALS['big_ms']})")
    for name in ("bc", "rf"):
        b = batch.get(name)
        if b is None:
            continue
        print(f"batch inference of {batch['rows']:,} rows ({name}): kiln {b['kiln_s']:.2f} s "
              f"(read, check, predict, write Parquet) vs raw predict {b['raw_predict_s']:.2f} s "
              f"= {b['kiln_s'] / b['raw_predict_s']:.2f}x (goal <= {GOALS['batch_ratio']}x); vs "
              f"the pandas script {b['pandas_script_s']:.2f} s = "
              f"{b['kiln_s'] / b['pandas_script_s']:.2f}x; vs the least script (pyarrow read, "
              f"predict, write) {b['arrow_script_s']:.2f} s = "
              f"{b['kiln_s'] / b['arrow_script_s']:.2f}x; reading the input alone takes "
              f"{b['read_s']:.2f} s = {b['read_s'] / b['raw_predict_s']:.1f}x the raw predict")
    if soak is not None:
        curve = soak["soak_curve"]
        print(f"memory over {curve[-1][0]:,} c=16 requests (kiln-full): "
              + ", ".join(f"{n // 1000}k {mb:.0f} MB" for n, mb in curve))
        trend = soak_trend(curve)
        if trend is not None:
            print(f"memory trend after the first 10% of requests: {trend['slope']:+.2f} MB per "
                  f"100k requests, band {trend['low']:.0f}-{trend['high']:.0f} MB "
                  f"(goal: flat; BentoML grew 288 -> 526 MB over ~80k requests)")
    if floor is not None:
        print(f"scikit-learn floor (a process that imports scikit-learn and unpickles the "
              f"model, nothing else): {floor['seconds']:.2f} s, {floor['rss_mb']:.0f} MB RSS; "
              f"kiln-plain is that plus its server")


def soak_trend(curve: list[tuple[int, float]]) -> dict[str, float] | None:
    """Least-squares slope of RSS over requests after a warm-up of the first 10% (MB per
    100,000 requests), with the band's low and high: flat memory is a slope near 0."""
    import numpy as np

    steady = [(n, mb) for n, mb in curve if n >= 0.1 * curve[-1][0]]
    if len(steady) < 3:
        return None
    n, mb = np.array(steady).T
    slope = float(np.polyfit(n / 100_000, mb, 1)[0])
    return {"slope": slope, "low": float(mb.min()), "high": float(mb.max())}


def sklearn_floor(model: Any, reps: int = 3) -> dict[str, float]:
    """What any server of this scikit-learn model pays before its first answer: starting
    Python, importing scikit-learn (which imports scipy, and pandas and pyarrow when they
    are installed) and unpickling the model; median wall time and peak RSS of ``reps``."""
    import pickle

    path = WORK / "floor_model.pkl"
    path.write_bytes(pickle.dumps(model))
    code = ("import pickle, sys; import sklearn.linear_model; "
            "pickle.loads(open(sys.argv[1], 'rb').read()); "
            "print(int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) / 1024)")
    times, rss = [], []
    for _ in range(reps):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                             text=True, check=True)
        times.append(time.perf_counter() - t)
        rss.append(float(out.stdout.strip()))
    return {"seconds": statistics.median(times), "rss_mb": statistics.median(rss)}


if __name__ == "__main__":
    main()
