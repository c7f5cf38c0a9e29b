"""Feature store benchmark: kiln vs Feast 0.67, side by side, same machine, same data.

    .venv/bin/python bench/bench_features.py              # full run (first run installs Feast)
    .venv/bin/python bench/bench_features.py --reps 1     # one repetition per item
    .venv/bin/python bench/bench_features.py --items historical,online

Data: the Feast harness's gen_data.py (/work/shared/peer-bench/feast): 1,000,000 rows,
10,000 driver ids, 10 float32 features over 30 days, and a 100,000-row entity frame;
plus a 5,000,000-row file of the same shape for kiln's flat-memory check.
Feast runs in its own venv (${KILN_BENCH_PEERS:-~/.cache/kiln-bench}/feast/venv, from
PyPI) with the harness scripts; kiln runs bench/kiln_features.py with this interpreter.
Each measurement is a fresh process; peak memory is /usr/bin/time's maximum RSS.
Results: a table on the terminal and bench/results/features.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402

HARNESS = Path(os.environ.get("KILN_FEAST_HARNESS", "/work/shared/peer-bench/feast"))
KILN_SCRIPT = BENCH / "kiln_features.py"
RESULTS = BENCH / "results" / "features.json"
PORT = 6566  # the harness's http_bench.py targets this port
FEATS = [f"driver_stats:f{j}" for j in range(10)]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[dict, float, int]:
    """Run ``cmd`` under /usr/bin/time: (its last JSON line, wall seconds, peak RSS kB)."""
    tfile = cwd / ".time.txt"
    out = subprocess.run(["/usr/bin/time", "-o", str(tfile), "-f", "%e %M", *cmd], cwd=cwd,
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    wall, rss = tfile.read_text().split()[-2:]
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line), float(wall), int(rss)


def gen_data(work: Path, py: Path) -> None:
    data = work / "data"
    if not (data / "driver_stats.parquet").exists():
        log("generating 1M-row data with the harness's gen_data.py")
        subprocess.run([str(py), str(HARNESS / "gen_data.py"), str(data)], check=True,
                       env={**os.environ, "PEERS": str(work.parent)})
    # Flat-memory check: 1M and 5M rows written with the same layout (row groups of
    # 100,000 rows), so that only the row count differs between the two runs.
    for name, parts in (("flat1m", 1), ("flat5m", 5)):
        target = work / name / "data" / "driver_stats.parquet"
        if target.exists():
            continue
        log(f"generating {name} ({parts}M rows, row groups of 100,000)")
        target.parent.mkdir(parents=True, exist_ok=True)
        code = (
            "import numpy as np, pandas as pd, pyarrow as pa, pyarrow.parquet as pq, sys\n"
            "out, parts = sys.argv[1], int(sys.argv[2])\n"
            "ANCHOR = pd.Timestamp('2026-11-20T00:00:00Z')\n"
            "writer = None\n"
            "for part in range(parts):\n"
            "    rng = np.random.default_rng(100 + part); N = 1_000_000\n"
            "    df = pd.DataFrame({'driver_id': rng.integers(0, 10_000, N, dtype=np.int64) + 1000,\n"
            "        'event_timestamp': ANCHOR - pd.to_timedelta(rng.integers(0, 30 * 86400, N),"
            " unit='s')})\n"
            "    for j in range(10): df[f'f{j}'] = rng.standard_normal(N).astype(np.float32)\n"
            "    df['created'] = df['event_timestamp']\n"
            "    t = pa.Table.from_pandas(df, preserve_index=False)\n"
            "    writer = writer or pq.ParquetWriter(out, t.schema)\n"
            "    writer.write_table(t, row_group_size=100_000)\n"
            "writer.close()\n")
        subprocess.run([sys.executable, "-c", code, str(target), str(parts)], check=True)


# -------------------------------------------------------------------------------- Feast
def feast_env() -> dict[str, str]:
    return {**os.environ, "FEAST_USAGE": "False", "PEERS": str(peers.peers_root())}


def feast_setup(work: Path) -> None:
    shutil.copy(HARNESS / "features.py", work / "features.py")
    shutil.copy(HARNESS / "feature_store.sqlite.yaml", work / "feature_store.yaml")


def feast_apply(work: Path, py: Path) -> None:
    for name in ("registry.db", "online.db"):
        (work / "data" / name).unlink(missing_ok=True)
    subprocess.run([str(py.parent / "feast"), "apply"], cwd=work, env=feast_env(), check=True,
                   capture_output=True)


def feast_materialize(work: Path, py: Path, reps: int) -> list[dict]:
    out = []
    for _ in range(reps):
        feast_apply(work, py)
        res, wall, rss = timed([str(py), str(HARNESS / "materialize.py")], work, feast_env())
        out.append({**res, "wall_s": wall, "rss_kb": rss})
        log(f"feast materialize: {res['materialize_incremental_s']} s, {rss // 1024} MB")
    return out


def feast_online(work: Path, py: Path, reps: int) -> list[dict]:
    out = []
    for _ in range(reps):
        res, _, _ = timed([str(py), str(HARNESS / "online_latency.py"), "2000"], work,
                          feast_env())
        out.append(res)
        log(f"feast online: batch1 p50 {res['batch1']['p50_ms']} ms, batch100 p50 "
            f"{res['batch100']['p50_ms']} ms")
    return out


def feast_historical(work: Path, py: Path, reps: int) -> list[dict]:
    out = []
    for _ in range(reps):
        res, wall, rss = timed([str(py), str(HARNESS / "historical.py")], work, feast_env())
        out.append({**res, "wall_s": wall, "rss_kb": rss})
        log(f"feast historical: {res['hist_to_df_s']} s, {rss // 1024} MB, rows {res['rows']}")
    return out


def http_bench(py: Path, work: Path, server: list[str], env: dict[str, str], reps: int
               ) -> list[dict]:
    proc = subprocess.Popen(server, cwd=work, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        body = json.dumps({"features": ["driver_stats:f0"],
                           "entities": {"driver_id": [1000]}}).encode()
        for _ in range(300):
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{PORT}/get-online-features",
                                             data=body,
                                             headers={"Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=5).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{server} did not answer on port {PORT}")
        out = []
        for _ in range(reps):
            for c in (1, 8):
                res, _, _ = timed([str(py), str(HARNESS / "http_bench.py"), str(c), "2000"],
                                  work, env)
                out.append(res)
                log(f"  http C={c}: p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms, "
                    f"{res['throughput_rps_incl_warmup']} req/s, errors {res['errors']}")
        return out
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# -------------------------------------------------------------------------------- kiln
def kiln_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "KILN_HOME": str(home)}
    env.pop("KILN_DB_URL", None)
    env.pop("KILN_ONLINE_STORE", None)
    return env


def kiln_fresh(work: Path) -> dict[str, str]:
    home = work / "kiln-home"
    shutil.rmtree(home, ignore_errors=True)
    env = kiln_env(home)
    subprocess.run([sys.executable, str(KILN_SCRIPT), "apply", str(work)], cwd=work, env=env,
                   check=True, capture_output=True)
    return env


def kiln_materialize(work: Path, reps: int, label: str) -> list[dict]:
    out = []
    for _ in range(reps):
        env = kiln_fresh(work)
        res, wall, rss = timed([sys.executable, str(KILN_SCRIPT), "materialize", str(work)],
                               work, env)
        out.append({**res, "wall_s": wall, "rss_kb": rss})
        log(f"kiln materialize {label}: {res['materialize_incremental_s']} s, {rss // 1024} MB")
    return out


def kiln_online(work: Path, reps: int) -> list[dict]:
    env = kiln_env(work / "kiln-home")
    out = []
    for _ in range(reps):
        res, _, _ = timed([sys.executable, str(KILN_SCRIPT), "online", str(work), "2000"], work,
                          env)
        out.append(res)
        log(f"kiln online: batch1 p50 {res['batch1']['p50_ms']} ms, batch100 p50 "
            f"{res['batch100']['p50_ms']} ms")
    return out


def kiln_historical(work: Path, reps: int, verify: int) -> tuple[list[dict], dict]:
    env = kiln_env(work / "kiln-home")
    out = []
    for _ in range(reps):
        res, wall, rss = timed([sys.executable, str(KILN_SCRIPT), "historical", str(work)], work,
                               env)
        out.append({**res, "wall_s": wall, "rss_kb": rss})
        log(f"kiln historical: {res['hist_to_df_s']} s, {rss // 1024} MB, rows {res['rows']}")
    check, _, _ = timed([sys.executable, str(KILN_SCRIPT), "historical", str(work), "--verify",
                         str(verify)], work, env)
    log(f"kiln historical check: {check}")
    return out, check


# -------------------------------------------------------------------------------- report
def med(rows: list[dict], *path: str) -> float:
    vals = []
    for r in rows:
        v = r
        for p in path:
            v = v[p]
        vals.append(float(v))
    return statistics.median(vals)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--verify", type=int, default=2000, help="entity rows checked by brute force")
    ap.add_argument("--items", default="materialize,flat,online,historical,http")
    ap.add_argument("--http-workers", type=int, default=1)
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args()
    items = set(args.items.split(","))

    fpy = peers.ensure_peer("feast")
    work = peers.peer_dir("feast") / "work"
    work.mkdir(parents=True, exist_ok=True)
    gen_data(work, fpy)
    feast_setup(work)
    res: dict = {"machine": os.uname().nodename, "cpus": os.cpu_count(),
                 "feast_versions": {k: v for k, v in peers.peer_versions("feast").items()
                                    if k in ("feast", "pandas", "pyarrow")},
                 "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if "materialize" in items or "online" in items or "http" in items:
        res["feast_materialize"] = feast_materialize(work, fpy, args.reps)
        res["kiln_materialize"] = kiln_materialize(work, args.reps, "1M")
    if "flat" in items:
        res["kiln_flat_1m"] = kiln_materialize(work / "flat1m", args.reps, "1M (flat check)")
        res["kiln_flat_5m"] = kiln_materialize(work / "flat5m", args.reps, "5M (flat check)")
    if "online" in items:
        res["feast_online"] = feast_online(work, fpy, args.reps)
        res["kiln_online"] = kiln_online(work, args.reps)
    if "http" in items:
        log("feast serve")
        res["feast_http"] = http_bench(
            fpy, work, [str(fpy.parent / "feast"), "serve", "-h", "127.0.0.1", "-p", str(PORT),
                        "--no-access-log"], feast_env(), args.reps)
        log(f"kiln features serve (workers={args.http_workers})")
        res["kiln_http"] = http_bench(
            fpy, work, [sys.executable, "-m", "kiln.cli.main", "features", "serve", "--port",
                        str(PORT), "--workers", str(args.http_workers)],
            kiln_env(work / "kiln-home"), args.reps)
    if "historical" in items:
        if "kiln_materialize" not in res:
            kiln_fresh(work)
        res["feast_historical"] = feast_historical(work, fpy, args.reps)
        res["kiln_historical"], res["kiln_historical_check"] = kiln_historical(
            work, args.reps, args.verify)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(res, indent=1))
    report(res)


def report(res: dict) -> None:
    lines = []

    def row(item: str, feast: str, kiln: str, ratio: str, goal: str) -> None:
        lines.append(f"| {item} | {feast} | {kiln} | {ratio} | {goal} |")

    if "kiln_historical" in res:
        f, k = res["feast_historical"], res["kiln_historical"]
        ft, kt = med(f, "hist_to_df_s"), med(k, "hist_to_df_s")
        fm, km = med(f, "rss_kb") / 1024, med(k, "rss_kb") / 1024
        chk = res["kiln_historical_check"]
        row("point-in-time join, 100k entity rows", f"{ft:.2f} s", f"{kt:.2f} s",
            f"{ft / kt:.1f}× faster", "≥10×")
        row("  peak memory (process max RSS)", f"{fm:.0f} MB", f"{km:.0f} MB",
            f"{km / fm:.2f} of Feast", "≤0.25")
        row("  entity rows returned", f"{int(med(f, 'rows')):,}", f"{int(med(k, 'rows')):,}",
            f"Feast drops {100_000 - int(med(f, 'rows')):,}", "none dropped")
        row(f"  brute-force check, {chk['verify_sample']:,} sampled rows", "—",
            f"{chk['verify_mismatches']} mismatches ({chk['verify_ties']} ties)", "",
            "exact")
    if "kiln_online" in res:
        f, k = res["feast_online"], res["kiln_online"]
        for b in ("batch1", "batch100"):
            fp, kp = med(f, b, "p50_ms"), med(k, b, "p50_ms")
            row(f"online lookup in-process, {b[5:]} entities (p50)", f"{fp:.3f} ms",
                f"{kp:.3f} ms", f"{fp / kp:.1f}×", "≥10×" if b == "batch100" else "—")
    if "kiln_http" in res:
        f, k = res["feast_http"], res["kiln_http"]
        for c in (1, 8):
            fc = [r for r in f if r["concurrency"] == c]
            kc = [r for r in k if r["concurrency"] == c]
            fr, kr = med(fc, "throughput_rps_incl_warmup"), med(kc, "throughput_rps_incl_warmup")
            row(f"HTTP C={c} requests/s", f"{fr:,.0f}", f"{kr:,.0f}", f"{kr / fr:.1f}×",
                "≥3×" if c == 8 else "—")
            row(f"HTTP C={c} p50 / p99", f"{med(fc, 'p50_ms'):.2f} / {med(fc, 'p99_ms'):.2f} ms",
                f"{med(kc, 'p50_ms'):.2f} / {med(kc, 'p99_ms'):.2f} ms", "",
                "kiln p99 < Feast p50" if c == 1 else "—")
    if "kiln_materialize" in res:
        f, k = res["feast_materialize"], res["kiln_materialize"]
        ft, kt = med(f, "materialize_incremental_s"), med(k, "materialize_incremental_s")
        row("materialize 1M rows", f"{ft:.2f} s", f"{kt:.2f} s", f"{ft / kt:.1f}×", "≥3×")
        row("  peak memory, 1M rows", f"{med(f, 'rss_kb') / 1024:.0f} MB",
            f"{med(k, 'rss_kb') / 1024:.0f} MB", "", "—")
    if "kiln_flat_5m" in res:
        k1, k5 = res["kiln_flat_1m"], res["kiln_flat_5m"]
        m1, m5 = med(k1, "rss_kb") / 1024, med(k5, "rss_kb") / 1024
        row("kiln materialize, same layout: 1M vs 5M rows", "—",
            f"{med(k1, 'materialize_incremental_s'):.2f} s, {m1:.0f} MB vs "
            f"{med(k5, 'materialize_incremental_s'):.2f} s, {m5:.0f} MB",
            f"{m5 / m1:.2f}× memory", "flat")
    print("| item | Feast 0.67 | kiln | ratio | goal |")
    print("|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--report":
        report(json.loads(RESULTS.read_text()))
    else:
        main()
