"""Data benchmark: kiln data versions vs DVC 3.67, kiln validation vs Great Expectations 1.24.

    .venv/bin/python bench/bench_data.py                  # full: 100,000 files, 1,000,000 rows
    .venv/bin/python bench/bench_data.py --quick          # 10,000 files, 100,000 rows
    .venv/bin/python bench/bench_data.py --part versions  # or: validation

Peers are installed from PyPI into their own virtualenvs (bench/peers:
${KILN_BENCH_PEERS:-~/.cache/kiln-bench}/{dvc,gx}/venv). Both sides run as command-line
processes on the same data in the same run (the harness of /work/shared/peer-bench/data,
copied to bench/peers/data): DVC's `dvc add/push/pull/status` in a git repo with a local
remote; kiln's `kiln data add/pull/status` with its artifact store (the remote) in another
folder. Results: a table with the ratios and bench/results/data.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
HARNESS = BENCH / "peers" / "data"
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402

RESULTS = BENCH / "results" / "data.json"
KILN = [sys.executable, "-m", "kiln.cli.main"]


def _psi() -> float:
    try:
        for line in Path("/proc/pressure/cpu").read_text().splitlines():
            if line.startswith("some"):
                return float(line.split("total=")[1]) / 1e6
    except OSError:
        pass
    return 0.0


CPU: dict[str, float] = {}  # "tool step" -> user+sys CPU seconds of that command


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment both tools run in: bytecode caching on (as for any user), so the
    first, warm-up command of each tool compiles it once."""
    env = {**os.environ, **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tool = "kiln" if "kiln.cli.main" in cmd else Path(cmd[0]).name
    label = " ".join(cmd[-3:] if tool == "kiln" else cmd[1:])
    CPU[f"{len(CPU) + 1:02d} {tool} {label}"] = round(cpu, 3)
    print(f"  {tool} {label}: {wall:.2f} s wall, {cpu:.2f} s CPU "
          f"(load {os.getloadavg()[0]:.1f})", flush=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return wall


def gen(py: str, folder: Path, n: int) -> None:
    subprocess.run([py, str(HARNESS / "gen_small.py"), str(folder), str(n)], check=True,
                   capture_output=True)
    os.sync()


def modify(py: str, folder: Path, n: int) -> None:
    subprocess.run([py, str(HARNESS / "modify_small.py"), str(folder), "10", str(n)],
                   check=True, capture_output=True)
    os.sync()


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def bench_dvc(work: Path, n: int) -> dict[str, float]:
    dvc = str(peers.ensure_peer("dvc", quiet=True).parent / "dvc")
    repo, remote = work / "repo", work / "remote"
    repo.mkdir(parents=True)
    remote.mkdir()
    env = clean_env({"DVC_NO_ANALYTICS": "1"})
    for cmd in (["git", "init", "-q"], [dvc, "version"], [dvc, "init", "-q"],
                [dvc, "config", "core.analytics", "false"],
                [dvc, "config", "core.site_cache_dir", str(work / "site")],
                [dvc, "remote", "add", "-d", "local", str(remote)]):
        subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True)
    gen(sys.executable, repo / "small", n)
    r: dict[str, float] = {}
    r["add"] = timed([dvc, "add", "small"], repo, env)
    r["status"] = timed([dvc, "status"], repo, env)
    r["push"] = timed([dvc, "push"], repo, env)
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "small")
    os.sync()
    r["pull"] = timed([dvc, "pull"], repo, env)
    assert count_files(repo / "small") == n
    r["status_after_pull"] = timed([dvc, "status"], repo, env)
    modify(sys.executable, repo / "small", n)
    r["readd"] = timed([dvc, "add", "small"], repo, env)
    return r


def bench_kiln(work: Path, n: int) -> dict[str, float]:
    repo = work / "repo"
    repo.mkdir(parents=True)
    env = clean_env({"KILN_HOME": str(repo / ".kiln"),
                     "KILN_ARTIFACTS_URL": str(work / "remote")})  # the store plays the remote
    subprocess.run([*KILN, "data", "--help"], cwd=repo, env=env, check=True,
                   capture_output=True)  # warm-up: bytecode compiled once, as for DVC
    gen(sys.executable, repo / "small", n)
    r: dict[str, float] = {}
    r["add"] = timed([*KILN, "data", "add", "small", "--name", "small"], repo, env)
    r["status"] = timed([*KILN, "data", "status"], repo, env)
    shutil.rmtree(repo / "small")
    os.sync()
    r["pull"] = timed([*KILN, "data", "pull"], repo, env)
    assert count_files(repo / "small") == n
    r["status_after_pull"] = timed([*KILN, "data", "status"], repo, env)
    modify(sys.executable, repo / "small", n)
    r["readd"] = timed([*KILN, "data", "add", "small", "--name", "small"], repo, env)
    r["status_after_readd"] = timed([*KILN, "data", "status"], repo, env)
    (repo / "small" / "extra.bin").write_bytes(b"not in the version")
    modify(sys.executable, repo / "small", n)
    r["pull_restore_10"] = timed([*KILN, "data", "pull"], repo, env)  # back to the version
    assert not (repo / "small" / "extra.bin").exists()
    return r


def bench_validation(rows: int, reps: int) -> dict[str, object]:
    gx = str(peers.ensure_peer("gx", quiet=True))
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    out = subprocess.run([gx, str(HARNESS / "gx_validate.py"), str(rows), "--reps", str(reps)],
                         capture_output=True, text=True, env=env, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("import_s="))
    fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    gx_runs = sorted(float(x) for x in line.split("run_s=")[1].split(" success")[0].split())
    kiln_out = subprocess.run([sys.executable, str(BENCH / "kiln_data_validate.py"), str(rows),
                               str(reps)], capture_output=True, text=True, check=True).stdout
    k = json.loads(kiln_out.strip().splitlines()[-1])
    return {"gx_run_s": gx_runs[len(gx_runs) // 2], "gx_import_s": float(fields["import_s"]),
            "gx_success": fields.get("success"), **{f"kiln_{key}": v for key, v in k.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3, help="validation repetitions (median)")
    ap.add_argument("--quick", action="store_true", help="10,000 files and 100,000 rows")
    ap.add_argument("--part", choices=["all", "versions", "validation"], default="all")
    ap.add_argument("--scratch", default=os.environ.get("KILN_BENCH_SCRATCH"),
                    help="folder for the generated data (default: a temp folder)")
    args = ap.parse_args()
    if args.quick:
        args.files, args.rows = 10_000, 100_000
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    result: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.python_version()}",
        "loadavg_start": os.getloadavg()[0], "files": args.files, "rows": args.rows,
        "versions": {"dvc": peers.peer_versions("dvc").get("dvc"),
                     "great_expectations": peers.peer_versions("gx").get("great_expectations")},
    }
    table = Table(title="kiln data vs DVC / Great Expectations (wall seconds, same run)")
    for col in ("step", "peer", "kiln", "ratio", "goal"):
        table.add_column(col)
    if args.part in ("all", "versions"):
        scratch = Path(tempfile.mkdtemp(prefix="kiln-bench-data-", dir=args.scratch))
        try:
            psi0 = _psi()
            console.print(f"versions: {args.files:,} files of 1 KB, DVC then kiln ...")
            dvc = bench_dvc(scratch / "dvc", args.files)
            kiln = bench_kiln(scratch / "kiln", args.files)
            result["dvc"], result["kiln"] = dvc, kiln
            result["cpu_psi_some_s"] = round(_psi() - psi0, 1)
        finally:
            # Deleting a few hundred thousand small files takes minutes: in the background.
            subprocess.Popen(["rm", "-rf", str(scratch)], start_new_session=True)
        goals = {"add": "≥5×", "pull": "≥5× (DVC: push+pull)", "status": "< 1 s",
                 "status_after_pull": "< 1 s", "readd": "< 1 s (10 changed)"}
        for step, goal in goals.items():
            peer = dvc[step] + (dvc["push"] if step == "pull" else 0.0)
            table.add_row(f"{step} ({args.files:,} files)", f"{peer:.2f}", f"{kiln[step]:.2f}",
                          f"{peer / kiln[step]:.1f}×", goal)
        result["ratios"] = {s: round((dvc[s] + (dvc["push"] if s == "pull" else 0)) / kiln[s], 2)
                            for s in goals}
        result["ratio_pull_only"] = round(dvc["pull"] / kiln["pull"], 2)
    if args.part in ("all", "validation"):
        console.print(f"validation: 50 checks over {args.rows:,} rows x 25 columns ...")
        v = bench_validation(args.rows, args.reps)
        result["validation"] = v
        gx_s, k_s, floor_s = v["gx_run_s"], v["kiln_checks_s"], v["kiln_floor_s"]
        assert isinstance(gx_s, float) and isinstance(k_s, float) and isinstance(floor_s, float)
        table.add_row("50 checks (GX run vs kiln validate)", f"{gx_s:.3f}", f"{k_s:.3f}",
                      f"{gx_s / k_s:.1f}×", "≥3×")
        table.add_row("  vs hand-written numpy floor", f"{floor_s:.3f}", f"{k_s:.3f}",
                      f"{k_s / floor_s:.2f}× floor", "≤2× floor")
        table.add_row("  import (GX vs kiln.data)", f"{v['gx_import_s']:.2f}",
                      f"{v['kiln_import_s']:.2f}", "", "")
        full = v["kiln_full_s"]
        assert isinstance(full, float)
        table.add_row(f"full validation + drift {args.rows:,}×25", "", f"{full:.3f}", "",
                      "< 1 s")
    result["cpu_s"] = CPU
    result["versions"] = {"dvc": peers.peer_versions("dvc").get("dvc"),  # installed by now
                          "great_expectations": peers.peer_versions("gx").get(
                              "great_expectations")}
    result["loadavg_end"] = os.getloadavg()[0]
    console.print(table)
    console.print(f"load average {result['loadavg_start']:.1f} → {result['loadavg_end']:.1f} "
                  f"on {os.cpu_count()} cpus")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1))
    console.print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
