"""`kiln pipeline ...`, `kiln step run` and the Airflow export, run as a user runs them."""

from __future__ import annotations

import ast
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

FLOW = '''
import os
import kiln
from kiln import pipeline, step


def helper(x):
    return x + 1


@step
def start(n: int) -> int:
    print("starting with", n)
    return n


@step
def bump(x: int) -> int:
    return helper(x)


@step
def report(x: int, C: float = 1.0) -> dict:
    kiln.log_metric("x", x)
    return {"x": x, "C": C}


@step
def gate(marker: str) -> int:
    if not os.path.exists(marker):
        raise RuntimeError("no marker")
    return 1


@pipeline
def flow(n: int = 1, C: float = 1.0):
    report(bump(start(n)), C=C)


@pipeline
def gated(marker: str = "marker"):
    bump(gate(marker))
'''


class Kiln:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.env = {**os.environ, "KILN_HOME": str(cwd / ".kiln"), "COLUMNS": "160"}

    def __call__(self, *args: str, ok: bool | None = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", "kiln.cli.main", *args], cwd=self.cwd,
                             env=self.env, capture_output=True, text=True, timeout=300)
        if ok is True:
            assert out.returncode == 0, out.stderr + out.stdout
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def kiln_cli(tmp_path: Path) -> Kiln:
    (tmp_path / "flow.py").write_text(FLOW)
    return Kiln(tmp_path)


def _ran(result: dict[str, Any]) -> list[str]:
    return sorted(n for n, s in result["steps"].items() if not s["cached"])


def test_run_cache_and_code_changes(kiln_cli: Kiln, tmp_path: Path) -> None:
    first = kiln_cli.json("pipeline", "run", "flow:flow", "-p", "C=10", "--executor", "process")
    assert first["status"] == "FINISHED" and _ran(first) == ["bump", "report", "start"]
    again = kiln_cli.json("pipeline", "run", "flow:flow", "-p", "C=10")
    assert _ran(again) == []
    changed = kiln_cli.json("pipeline", "run", "flow:flow", "-p", "C=20")
    assert _ran(changed) == ["report"]
    # Editing a helper the step calls re-runs that step; its new output re-runs the next.
    source = (tmp_path / "flow.py").read_text().replace("return x + 1", "return x + 2")
    (tmp_path / "flow.py").write_text(source)
    edited = kiln_cli.json("pipeline", "run", "flow:flow", "-p", "C=20")
    assert _ran(edited) == ["bump", "report"]
    no_cache = kiln_cli.json("pipeline", "run", "flow:flow", "-p", "C=20", "--no-cache")
    assert _ran(no_cache) == ["bump", "report", "start"]

    runs = kiln_cli.json("pipeline", "runs")
    assert len(runs) == 5 and runs[-1]["executor"] == "process"
    shown = kiln_cli("pipeline", "show", first["run_id"], "--html", "graph.html").stdout
    assert "flow" in shown and "bump" in shown and "FINISHED" in shown and " ms" in shown
    assert "<svg" in (tmp_path / "graph.html").read_text()
    cached = kiln_cli.json("pipeline", "show", again["run_id"])
    assert {s["step"]: s["status"] for s in cached["steps"]} == {
        "start": "CACHED", "bump": "CACHED", "report": "CACHED"}
    step_run = kiln_cli.json("runs", "show", first["steps"]["report"]["run_id"])
    assert step_run["metrics"] == {"x": 2.0} and step_run["parent_run_id"] == first["run_id"]
    assert any(a["path"] == "logs.txt" for a in step_run["artifacts"])


def test_failed_run_exits_1_and_resume_continues(kiln_cli: Kiln, tmp_path: Path) -> None:
    failed = kiln_cli("pipeline", "run", "flow:gated", "--json", ok=None)
    assert failed.returncode == 1
    run_id = json.loads(failed.stdout)["run_id"]
    (tmp_path / "marker").write_text("")
    resumed = kiln_cli.json("pipeline", "resume", run_id)
    assert resumed["status"] == "FINISHED" and _ran(resumed) == ["bump", "gate"]


@pytest.mark.parametrize(("args", "message"), [
    (["pipeline", "run", "nosuch.module:flow"], "error: module 'nosuch.module' does not import"),
    (["pipeline", "run", "flow:flow", "-p", "gamma=1"],
     "error: pipeline 'flow' has no parameter 'gamma'; accepted: n, C"),
    (["pipeline", "run", "flow:flow", "-p", "n=many"],
     "error: pipeline 'flow': parameter n='many' is a str; accepted: int"),
    (["pipeline", "run", "flow:flow", "--executor", "yarn"], "error: executor 'yarn' is not known"),
    (["pipeline", "run", "flow:helper"], "is a function, not a pipeline"),
])
def test_bad_input_is_one_line(kiln_cli: Kiln, args: list[str], message: str) -> None:
    out = kiln_cli(*args, ok=None)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert kiln_cli.json("pipeline", "runs") == []


def test_airflow_export_calls_kiln_step_run(kiln_cli: Kiln, tmp_path: Path) -> None:
    kiln_cli("pipeline", "export", "flow:flow", "--to", "airflow", "-o", "dag.py", "-p", "C=3")
    text = (tmp_path / "dag.py").read_text()
    tree = ast.parse(text)
    consts = {t.targets[0].id: t.value.value for t in tree.body  # type: ignore[attr-defined]
              if isinstance(t, ast.Assign) and isinstance(t.value, ast.Constant)}
    assert consts["PIPELINE"] == "flow:flow"
    tasks = {kw.value.value: call for call in ast.walk(tree) if isinstance(call, ast.Call)
             and getattr(call.func, "id", "") == "BashOperator"
             for kw in call.keywords if kw.arg == "task_id"}
    assert list(tasks) == ["start", "bump", "report"]
    deps = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.BinOp)
            and isinstance(n.op, ast.RShift)]
    assert deps == ["t_start >> t_bump", "t_bump >> t_report"]
    try:
        import airflow  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - only where Airflow is installed
        namespace: dict[str, Any] = {}
        exec(compile(text, "dag.py", "exec"), namespace)
        assert namespace["dag"].task_ids == ["start", "bump", "report"]
    # Each task's command works: run them in the DAG's order, as Airflow would.
    for step_id in tasks:
        command = (f"kiln step run {consts['PIPELINE']} {shlex.quote(step_id)} "
                   f"{consts['PARAMS']}")
        args = shlex.split(command)[1:]
        out = kiln_cli(*args, "--json")
        result = json.loads(out.stdout)
        assert not result["steps"][step_id]["cached"]
        assert all(s["cached"] for n, s in result["steps"].items() if n != step_id)
