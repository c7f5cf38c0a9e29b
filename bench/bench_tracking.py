"""Tracking / registry benchmark: kiln vs MLflow, side by side, same machine, same data.

    .venv/bin/python bench/bench_tracking.py              # full run (~25 min; installs MLflow once)
    .venv/bin/python bench/bench_tracking.py --quick    # smaller sizes, smoke run
    .venv/bin/python bench/bench_tracking.py --skip-peer  # kiln only, MLflow from the last JSON

Every item runs each side as its own subprocess in a fresh temporary directory:
MLflow in its own virtualenv (bench/peers, ${KILN_BENCH_PEERS:-~/.cache/kiln-bench}/mlflow),
kiln in this interpreter. Each side prints its result as one JSON line on stdout.
Results: a table on the terminal and bench/results/tracking.json. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import benchdata as bd  # noqa: E402
import peers  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
RESULTS = BENCH / "results" / "tracking.json"
KILN_SCRIPT = BENCH / "kiln_tracking.py"
MLFLOW_SCRIPT = peers.script("mlflow_tracking.py")

SIZES = {
    "full": dict(
        a_mlflow=2_000,
        a_kiln=100_000,
        a_reps=3,
        runs=1_000,
        search_reps=5,
        big_runs=100_000,
        big_reps=5,
        import_reps=5,
        load_reps=3,
    ),
    "quick": dict(
        a_mlflow=200,
        a_kiln=5_000,
        a_reps=1,
        runs=100,
        search_reps=3,
        big_runs=5_000,
        big_reps=3,
        import_reps=3,
        load_reps=1,
    ),
}

# item id -> (title, goal text, kind); kind: "rate" (higher is better, ratio kiln/mlflow),
# "time" (lower is better, ratio mlflow/kiln), "abs" (kiln-only absolute goal), "info"
ITEMS = {
    "a": ("a log_metric, 1 run: MLflow {a_mlflow:,} / kiln {a_kiln:,} calls", "≥100×"),
    "b": ("b create {runs:,} runs (10 params+10 metrics)", "≥20×"),
    "c_filter": ("c search {runs:,} runs: filter", "≥10×"),
    "c_order_by": ("c search {runs:,} runs: order_by", "≥10×"),
    "c_filter_order_by": ("c search {runs:,} runs: filter+order_by", "≥10×"),
    "d": ("d search {big_runs:,} runs: filter+order_by, top 100", "< 0.2 s"),
    "d_populate": ("  └ setup: populate {big_runs:,} runs (client API)", "—"),
    "e": ("e import (fresh process, in-process time)", "kiln < 0.2 s"),
    "e_resolve": ("  └ import + resolve start_run/log_metric/search_runs", "—"),
    "f": ("f load_model by alias, fresh process", "≥5×"),
    "f_preimported": ("  └ same, sklearn imported before the timer", "—"),
    "f_setup": ("  └ setup: log_model + register", "—"),
}


class SideError(RuntimeError):
    pass


# ----------------------------------------------------------------------------- helpers
def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1:
        return f"{s * 1000:.3g} ms" if s < 0.1 else f"{s * 1000:.0f} ms"
    return f"{s:.2f} s"


def fmt_rate(r: float | None, unit: str) -> str:
    return "—" if r is None else f"{r:,.0f} {unit}"


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "KILN_"))
        and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.update(extra)
    return env


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.size = SIZES["quick" if args.quick else "full"]
        self.tmp_root = Path(tempfile.mkdtemp(prefix="kiln-bench-", dir=args.tmp))
        self.mlflow_py: str | None = None
        self.kiln_py = sys.executable
        self.kiln_pythonpath: str | None = None
        self.items: dict[str, dict] = {}
        self.notes: list[str] = []
        self.versions: dict[str, str] = {}

    # -- environments ---------------------------------------------------------
    def new_dir(self, label: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=label + "-", dir=self.tmp_root))

    def env(self, side: str, d: Path) -> dict[str, str]:
        if side == "mlflow":
            # telemetry off: the box has no internet; it can only make MLflow faster
            return clean_env(
                {
                    "MLFLOW_TRACKING_URI": f"sqlite:///{d}/mlflow.db",
                    "MLFLOW_DISABLE_TELEMETRY": "true",
                    "DO_NOT_TRACK": "true",
                }
            )
        extra = {
            "KILN_HOME": str(d / ".kiln"),
            "KILN_DB_URL": f"sqlite:///{d}/kiln.db",
            "KILN_ARTIFACTS_URL": str(d / "artifacts"),
        }
        env = clean_env(extra)
        # kiln runs in this interpreter's environment: keep its PYTHONPATH, if any
        pp = [x for x in (self.kiln_pythonpath, os.environ.get("PYTHONPATH")) if x]
        if pp:
            env["PYTHONPATH"] = os.pathsep.join(pp)
        return env

    def run_side(
        self, side: str, cmd: list[str], d: Path, *, stream: bool = False, timeout: float = 3600
    ) -> dict:
        py, script = (
            (self.mlflow_py, MLFLOW_SCRIPT) if side == "mlflow" else (self.kiln_py, KILN_SCRIPT)
        )
        log = d / f"{side}-{cmd[0]}.stderr.log"
        with open(log, "w") as err:
            p = subprocess.run(
                [py, str(script), *cmd],
                cwd=d,
                env=self.env(side, d),
                text=True,
                stdout=subprocess.PIPE,
                stderr=None if stream else err,
                timeout=timeout,
            )
        for line in p.stdout.splitlines():
            if line.startswith(bd.RESULT_TAG):
                return json.loads(line[len(bd.RESULT_TAG) :])
        tail = "" if stream else "".join(log.read_text().splitlines(True)[-25:])
        raise SideError(f"{side} `{cmd[0]}` failed (exit {p.returncode}); stderr tail:\n{tail}")

    def timed_import(self, side: str, module: str, d: Path, resolve: bool = False) -> float:
        """In-process `import module` time in a fresh interpreter (optionally + resolving
        the fluent API names a first script touches: kiln imports its modules lazily)."""
        py = self.mlflow_py if side == "mlflow" else self.kiln_py
        touch = (
            f"; {module}.start_run; {module}.log_metric; {module}.search_runs" if resolve else ""
        )
        code = (
            f"import time; t=time.perf_counter(); import {module}{touch}; "
            "print(time.perf_counter()-t)"
        )
        p = subprocess.run(
            [py, "-c", code],
            cwd=d,
            env=self.env(side, d),
            text=True,
            capture_output=True,
            timeout=300,
        )
        if p.returncode != 0:
            raise SideError(f"{side}: import {module} failed:\n{p.stderr[-2000:]}")
        return float(p.stdout.strip().splitlines()[-1])

    # -- result bookkeeping ------------------------------------------------------
    def new_item(self, key: str, unit: str, kind: str) -> dict:
        title, goal = ITEMS[key]
        return {"title": title.format(**self.size), "goal": goal, "unit": unit, "kind": kind}

    def item(
        self,
        key: str,
        unit: str,
        kind: str,
        mlflow=None,
        kiln=None,
        *,
        mlflow_raw=None,
        kiln_raw=None,
        check: bool | None = True,
        note: str = "",
    ) -> None:
        it = self.items.setdefault(key, self.new_item(key, unit, kind))
        if mlflow is not None or mlflow_raw is not None:
            it["mlflow"] = mlflow
            it["mlflow_raw"] = mlflow_raw
        if kiln is not None or kiln_raw is not None:
            it["kiln"] = kiln
            it["kiln_raw"] = kiln_raw
        it["check_ok"] = check
        if note:
            it["note"] = note

    def fail(self, key: str, unit: str, kind: str, side: str, exc: Exception) -> None:
        it = self.items.setdefault(key, self.new_item(key, unit, kind))
        it[f"{side}_error"] = (
            str(exc).strip().splitlines()[0][:300] if str(exc).strip() else repr(exc)
        )
        self.notes.append(f"[{key}] {side}: {str(exc).strip()[:3000]}")
        console.print(f"[red]  {side} failed:[/red] {str(exc).strip()[:3000]}")

    def peer_enabled(self) -> bool:
        return self.mlflow_py is not None

    # -- items -------------------------------------------------------------------
    def sqlite_floor(self) -> list[float]:
        """Raw sqlite3 single-row INSERT+COMMIT per call (default journal, synchronous=FULL)."""
        d = self.new_dir("floor")
        c = sqlite3.connect(d / "floor.db")
        c.execute("create table m(k text, v real, s int)")
        c.commit()
        out = []
        for _ in range(3):
            n = 500
            t0 = time.perf_counter()
            for i in range(n):
                c.execute("insert into m values(?,?,?)", ("m", i * 0.5, i))
                c.commit()
            out.append(n / (time.perf_counter() - t0))
        c.close()
        return out

    def item_a(self) -> None:
        s = self.size
        console.print(
            f"[bold]a[/bold] log_metric: MLflow {s['a_mlflow']:,} calls, "
            f"kiln {s['a_kiln']:,} calls, "
            f"x{s['a_reps']} runs each"
        )
        if self.peer_enabled():
            try:
                r = self.run_side(
                    "mlflow",
                    ["log_metric", "--n", str(s["a_mlflow"]), "--reps", str(s["a_reps"])],
                    self.new_dir("a-mlflow"),
                )
                ok = all(c == s["a_mlflow"] for c in r["read_back_counts"])
                self.item(
                    "a", "calls/s", "rate", mlflow=r["median_calls_per_s"], mlflow_raw=r, check=ok
                )
                console.print(f"  MLflow {fmt_rate(r['median_calls_per_s'], 'calls/s')}")
            except Exception as e:
                self.fail("a", "calls/s", "rate", "mlflow", e)
        try:
            d = self.new_dir("a-kiln")
            r = self.run_side(
                "kiln", ["log_metric", "--n", str(s["a_kiln"]), "--reps", str(s["a_reps"])], d
            )
            cnt = self.run_side(
                "kiln",
                ["count", "--key", "m", *[a for x in r["run_ids"] for a in ("--run-id", x)]],
                d,
            )
            r["fresh_process_read_back"] = cnt["runs"]
            ok = all(c == s["a_kiln"] for c in r["read_back_counts"]) and all(
                x["count"] == s["a_kiln"] and x["values_ok"] for x in cnt["runs"]
            )
            r["journal_mode"] = sqlite_journal_mode(d / "kiln.db")
            prev = self.items.get("a", {}).get("check_ok")
            self.item(
                "a",
                "calls/s",
                "rate",
                kiln=r["median_calls_per_s"],
                kiln_raw=r,
                check=ok if prev is None else (ok and prev),
            )
            console.print(
                f"  kiln   {fmt_rate(r['median_calls_per_s'], 'calls/s')}; "
                "read back in a fresh process: "
                f"{[x['count'] for x in cnt['runs']]} points (journal_mode={r['journal_mode']})"
            )
            if not ok:
                self.notes.append(
                    f"[a] kiln durability check FAILED: in-process {r['read_back_counts']}, "
                    f"fresh process {cnt['runs']}, expected {s['a_kiln']} each"
                )
        except Exception as e:
            self.fail("a", "calls/s", "rate", "kiln", e)

    def item_bc(self) -> None:
        s = self.size
        n = s["runs"]
        exp = bd.expected_counts(n)
        console.print(
            f"[bold]b/c[/bold] create {n:,} runs x (10 params, 10 metrics), "
            f"then 3 searches x{s['search_reps']}"
        )
        for side in (["mlflow"] if self.peer_enabled() else []) + ["kiln"]:
            try:
                r = self.run_side(
                    side,
                    ["runs", "--n-runs", str(n), "--reps", str(s["search_reps"])],
                    self.new_dir(f"bc-{side}"),
                )
            except Exception as e:
                self.fail("b", "s", "time", side, e)
                for key in ("c_filter", "c_order_by", "c_filter_order_by"):
                    self.items.setdefault(key, self.new_item(key, "s", "time"))[f"{side}_error"] = (
                        "see b"
                    )
                continue
            kw = {side: r["create_s"], f"{side}_raw": {"create_s": r["create_s"], "n_runs": n}}
            self.item("b", "s", "time", check=self._and("b", True), **kw)
            msg = [
                f"  {'MLflow' if side == 'mlflow' else 'kiln  '} create {fmt_time(r['create_s'])}"
            ]
            for name, _, _ in bd.SEARCHES:
                key = "c_" + name.replace("+", "_")
                sr = r["searches"][name]
                ok = sr["rows"] == exp[name] and sr.get("ordered", True)
                if not ok:
                    self.notes.append(
                        f"[{key}] {side} returned {sr['rows']} rows (expected {exp[name]}), "
                        f"ordered={sr.get('ordered')}"
                    )
                self.item(
                    key,
                    "s",
                    "time",
                    check=self._and(key, ok),
                    **{side: sr["median_s"], f"{side}_raw": sr},
                )
                msg.append(f"{name} {fmt_time(sr['median_s'])} ({sr['rows']} rows)")
            console.print("; ".join(msg))

    def _and(self, key: str, ok: bool) -> bool:
        prev = self.items.get(key, {}).get("check_ok")
        return ok if prev is None else (ok and prev)

    def item_d(self) -> None:
        s = self.size
        n = s["big_runs"]
        console.print(
            f"[bold]d[/bold] kiln only: populate {n:,} runs (client API), "
            "then search in a fresh process"
        )
        d = self.new_dir("d-kiln")
        try:
            pop = self.run_side("kiln", ["populate", "--n-runs", str(n)], d, stream=True)
            self.item(
                "d_populate",
                "s",
                "info",
                kiln=pop["populate_s"],
                kiln_raw=pop,
                check=pop["n_runs"] == n,
            )
            console.print(
                f"  populated in {fmt_time(pop['populate_s'])} "
                f"({n / pop['populate_s']:,.0f} runs/s)"
            )
        except Exception as e:
            self.fail("d_populate", "s", "info", "kiln", e)
            self.fail("d", "s", "abs", "kiln", RuntimeError("not run: populate failed"))
            return
        try:
            r = self.run_side(
                "kiln", ["search_big", "--n-runs", str(n), "--reps", str(s["big_reps"])], d
            )
            ok = r["rows"] == 100 and r["matches_expected_top100"]
            if not ok:
                self.notes.append(
                    f"[d] kiln result check FAILED: rows={r['rows']}, "
                    f"top-100 matches expected={r['matches_expected_top100']}"
                )
            self.item("d", "s", "abs", kiln=r["median_s"], kiln_raw=r, check=ok)
            console.print(
                f"  search median {fmt_time(r['median_s'])} (first {fmt_time(r['first_s'])})"
            )
        except Exception as e:
            self.fail("d", "s", "abs", "kiln", e)

    def item_e(self) -> None:
        reps = self.size["import_reps"]
        console.print(
            f"[bold]e[/bold] import time, fresh process, median of {reps} (after 1 warm-up each)"
        )
        sides = (["mlflow"] if self.peer_enabled() else []) + ["kiln"]
        variants = (("e", False), ("e_resolve", True))
        times: dict[tuple[str, str], list[float]] = {(k, s): [] for k, _ in variants for s in sides}
        d = self.new_dir("e")
        failed: set[tuple[str, str]] = set()
        for rep in range(reps + 1):
            for key, resolve in variants:
                for side in sides:
                    if (key, side) in failed:
                        continue
                    try:
                        t = self.timed_import(side, side, d, resolve)
                    except Exception as e:
                        failed.add((key, side))
                        self.fail(key, "s", "time" if key == "e" else "info", side, e)
                        continue
                    if rep > 0:  # rep 0 is the warm-up (pyc compile, page cache)
                        times[(key, side)].append(t)
        for (key, side), ts in times.items():
            if ts:
                med = statistics.median(ts)
                self.item(
                    key,
                    "s",
                    "time" if key == "e" else "info",
                    check=True,
                    **{side: med, f"{side}_raw": {"times_s": ts}},
                )
                console.print(
                    f"  {side:<6} {'' if key == 'e' else '+ resolve API '}{fmt_time(med)}  "
                    f"{[round(x, 3) for x in ts]}"
                )

    def item_f(self) -> None:
        reps = self.size["load_reps"]
        console.print(
            f"[bold]f[/bold] load by alias in a fresh process, median of {reps} "
            "(after 1 warm-up each)"
        )
        setups = {}
        for side in (["mlflow"] if self.peer_enabled() else []) + ["kiln"]:
            d = self.new_dir(f"f-{side}")
            try:
                st = self.run_side(side, ["model_setup", "--name", "bench_bc"], d)
                setups[side] = (d, st)
                self.versions.update(st.get("versions", {}))
                self.item(
                    "f_setup",
                    "s",
                    "info",
                    check=True,
                    **{side: st["log_model_s"] + st.get("register_s", 0.0), f"{side}_raw": st},
                )
            except Exception as e:
                self.fail("f_setup", "s", "info", side, e)
                self.fail("f", "s", "time", side, RuntimeError("not run: setup failed"))
        # alternate sides and variants so that drifting disk / CPU speed hits both alike
        variants = (("f", []), ("f_preimported", ["--preimport"]))
        loads: dict[tuple[str, str], list[dict]] = {(k, s): [] for k, _ in variants for s in setups}
        broken: set[str] = set()
        for rep in range(reps + 1):
            for key, extra in variants:
                for side, (d, st) in setups.items():
                    if side in broken:
                        continue
                    try:
                        r = self.run_side(side, ["model_load", "--uri", st["alias_uri"], *extra], d)
                    except Exception as e:
                        self.fail(key, "s", "info" if key != "f" else "time", side, e)
                        broken.add(side)
                        continue
                    r["prediction_ok"] = r["n_positive"] == st["n_positive"]
                    if rep > 0:  # rep 0 is the warm-up
                        loads[(key, side)].append(r)
        for (key, side), rs in loads.items():
            if not rs:
                continue
            med = statistics.median(x["load_s"] for x in rs)
            ok = all(x["prediction_ok"] for x in rs)
            if not ok:
                self.notes.append(
                    f"[{key}] {side}: loaded model's predictions differ from the trained model"
                )
            self.item(
                key,
                "s",
                "time" if key == "f" else "info",
                check=self._and(key, ok),
                **{side: med, f"{side}_raw": {"loads": rs}},
            )
            console.print(
                f"  {side:<6} {'' if key == 'f' else '(sklearn pre-imported) '}{fmt_time(med)}  "
                f"{[round(x['load_s'], 3) for x in rs]} "
                f"(import {fmt_time(statistics.median(x['import_s'] for x in rs))})"
            )

    # -- driver ------------------------------------------------------------------
    def setup(self) -> None:
        if importlib.util.find_spec("kiln") is None:
            self.kiln_pythonpath = str(REPO / "src")
            self.notes.append(
                f"kiln is not installed in {sys.executable}; "
                f"using PYTHONPATH={self.kiln_pythonpath}"
            )
        if not self.args.skip_peer:
            console.print(
                "[dim]preparing the MLflow peer venv (installs once, takes a few minutes)...[/dim]"
            )
            self.mlflow_py = str(peers.ensure_peer("mlflow"))
            self.versions.update(
                {
                    k: v
                    for k, v in peers.peer_versions("mlflow").items()
                    if k in ("mlflow", "scikit-learn", "sqlalchemy", "pandas", "numpy")
                }
            )
        try:
            d = self.new_dir("versions")
            self.versions.update(self.run_side("kiln", ["versions"], d))
        except Exception as e:
            self.notes.append(f"kiln versions: {e}")

    def run(self) -> dict:
        started = _dt.datetime.now(_dt.timezone.utc)
        src_start = git_state()
        t0 = time.perf_counter()
        self.setup()
        wanted = set(self.args.items.split(",")) if self.args.items else set("abcdef")
        floor_before = self.sqlite_floor()
        console.print(
            f"raw sqlite commit floor: {', '.join(f'{x:,.0f}' for x in floor_before)} commits/s"
        )
        steps = [
            ("a", self.item_a),
            ("b", self.item_bc),
            ("d", self.item_d),
            ("e", self.item_e),
            ("f", self.item_f),
        ]
        load = {"start": os.getloadavg()}
        for key, fn in steps:
            if key in wanted or (key == "b" and "c" in wanted):
                load[f"before_{key}"] = os.getloadavg()
                fn()
        load["end"] = os.getloadavg()
        console.print(
            "load average (1/5/15 min) before each step: "
            + "; ".join(f"{k} {v[0]:.1f}" for k, v in load.items())
        )
        floor_after = self.sqlite_floor()
        console.print(
            "raw sqlite commit floor (end): "
            f"{', '.join(f'{x:,.0f}' for x in floor_after)} commits/s"
        )
        src_end = git_state()
        if src_end != src_start:
            self.notes.append(
                f"kiln's source changed during the run: {src_start} at the start, {src_end} at "
                "the end; items ran against whatever was checked out when their process started"
            )
        peer_from = None
        if self.args.skip_peer:
            peer_from = self.reuse_peer()
        for it in self.items.values():
            finish_item(it)
        return {
            "benchmark": "tracking",
            "date": started.isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - t0, 1),
            "mode": "quick" if self.args.quick else "full",
            "sizes": self.size,
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
            },
            "versions": self.versions,
            "kiln_source": src_start,
            "sqlite_floor_commits_per_s": {"start": floor_before, "end": floor_after},
            "load_average": load,  # the box may be shared: other processes skew both sides
            "peer_figures_from": peer_from,
            "items": self.items,
            "notes": self.notes,
        }

    def reuse_peer(self) -> str | None:
        prev = Path(self.args.output)
        if not prev.exists():
            self.notes.append(f"--skip-peer: no previous {prev.name}, MLflow column empty")
            return None
        old = json.loads(prev.read_text())
        src = old.get("peer_figures_from") or old.get("date")
        for key, it in self.items.items():
            o = old.get("items", {}).get(key, {})
            if o.get("mlflow") is not None:
                it["mlflow"] = o["mlflow"]
                it["mlflow_raw"] = o.get("mlflow_raw")
        if old.get("mode") != ("quick" if self.args.quick else "full"):
            self.notes.append(f"--skip-peer: MLflow figures come from a {old.get('mode')} run")
        for k in ("mlflow",):
            if k in old.get("versions", {}):
                self.versions[k] = old["versions"][k]
        return src

    def cleanup(self) -> None:
        if self.args.keep:
            console.print(f"[dim]kept {self.tmp_root}[/dim]")
        else:
            shutil.rmtree(self.tmp_root, ignore_errors=True)


def git_state() -> dict:
    """Commit of the checkout the kiln side ran from, and whether src/ had local changes."""

    def git(*a: str) -> str:
        try:
            return subprocess.run(
                ["git", *a], cwd=REPO, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "src_dirty": bool(git("status", "--porcelain", "--", "src")),
    }


def sqlite_journal_mode(db: Path) -> str | None:
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        mode = c.execute("pragma journal_mode").fetchone()[0]
        c.close()
        return mode
    except sqlite3.Error:
        return None


def finish_item(it: dict) -> None:
    m, k, kind = it.get("mlflow"), it.get("kiln"), it["kind"]
    ratio = None
    if m is not None and k is not None and m > 0 and k > 0:
        ratio = k / m if kind == "rate" else m / k
    it["ratio"] = ratio
    goal = it["goal"]
    met = None
    if goal.startswith("≥") and ratio is not None:
        met = ratio >= float(goal[1:].rstrip("×"))
    elif (goal == "< 0.2 s" and k is not None) or (goal == "kiln < 0.2 s" and k is not None):
        met = k < 0.2
    if met and it.get("check_ok") is False:
        met = False  # fast but wrong does not count
    it["met"] = met


def render(res: dict) -> None:
    t = Table(
        title=f"kiln vs MLflow {res['versions'].get('mlflow', '')} — tracking & registry "
        f"({res['mode']}, {res['date']})"
    )
    for col, just in (
        ("item", "left"),
        ("MLflow", "right"),
        ("kiln", "right"),
        ("ratio", "right"),
        ("goal", "center"),
        ("met?", "center"),
    ):
        t.add_column(col, justify=just)
    for key in ITEMS:
        it = res["items"].get(key)
        if not it:
            continue

        def cell(side: str, it: dict = it) -> str:
            if it.get(f"{side}_error") and it.get(side) is None:
                return "[red]error[/red]"
            v = it.get(side)
            return fmt_rate(v, it["unit"]) if it["kind"] == "rate" else fmt_time(v)

        ratio = f"{it['ratio']:,.1f}×" if it.get("ratio") else "—"
        met = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "—"}[it.get("met")]
        if it.get("check_ok") is False:
            met += " [red](check failed)[/red]"
        style = "dim" if it["kind"] == "info" else None
        t.add_row(it["title"], cell("mlflow"), cell("kiln"), ratio, it["goal"], met, style=style)
    console.print(t)
    fl = res["sqlite_floor_commits_per_s"]
    console.print(
        "raw sqlite3 INSERT+COMMIT floor on this disk: start "
        + ", ".join(f"{x:,.0f}" for x in fl["start"])
        + "; end "
        + ", ".join(f"{x:,.0f}" for x in fl["end"])
        + " commits/s"
    )
    if res.get("load_average"):
        la = res["load_average"]
        console.print(
            f"load average (1 min) at start {la['start'][0]:.1f}, end {la['end'][0]:.1f} "
            f"on {res['machine']['cpus']} CPUs"
        )
    if res.get("peer_figures_from"):
        console.print(
            "[yellow]MLflow figures reused from the run of "
            f"{res['peer_figures_from']} (--skip-peer)[/yellow]"
        )
    for n in res["notes"]:
        console.print(f"[yellow]note:[/yellow] {n[:600]}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument(
        "--skip-peer",
        action="store_true",
        help="kiln only; MLflow figures are taken from the last bench/results/tracking.json",
    )
    ap.add_argument(
        "--items", default="", help="comma list of items to run (a,b,c,d,e,f; b and c run together)"
    )
    ap.add_argument(
        "--tmp",
        default=None,
        help="parent folder of the temporary directories (default: system temp)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    ap.add_argument(
        "--output",
        default=None,
        help="JSON output path (default bench/results/tracking.json; "
        "tracking-quick.json with --quick)",
    )
    args = ap.parse_args()
    if args.output is None:
        args.output = str(RESULTS.with_name("tracking-quick.json") if args.quick else RESULTS)
    b = Bench(args)
    try:
        res = b.run()
    finally:
        b.cleanup()
    render(res)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    console.print(f"[dim]wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}[/dim]")


if __name__ == "__main__":
    main()
