"""Sweeps end to end: trials as child runs on the process and Ray executors, pruning,
failures, resuming after Ctrl-C and after the sweep process is killed, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import kiln
from kiln.cli.main import cli
from kiln.entities import RunStatus
from kiln.exceptions import ConflictError
from kiln.sweeps import Sweep, load_train_fn, sweep
from kiln.workspace import Workspace

# The loss curve of x falls with the step and is lowest at x = 1: curves of x far from 1
# lie above the median at every step, so the median and ASHA pruners stop them early.
TOY = '''
import os
import signal

import kiln


def train(params):
    x = params["x"]
    for step in range(10):
        kiln.log_metric("loss", (x - 1.0) ** 2 + 1.0 / (step + 1), step=step)


def fails_above_zero(params):
    if params["x"] > 0:
        raise ValueError(f"x={params['x']} is too big")
    return params["x"] ** 2


def dies_on_fifth(params):
    counter = os.environ["TOY_COUNTER"]
    calls = len(open(counter).read()) if os.path.exists(counter) else 0
    with open(counter, "a") as f:
        f.write(".")
    if calls == 4:
        os.kill(os.getpid(), signal.SIGKILL)
    return train(params)
'''
SPACE = {"x": {"type": "float", "low": -4.0, "high": 4.0}}


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    path = tmp_path / "sweep_toy.py"
    path.write_text(TOY)
    (tmp_path / "space.yaml").write_text("x: {type: float, low: -4.0, high: 4.0}\n")
    return path


def _check_finished_sweep(s: Sweep, ws: Workspace, trials: int) -> None:
    counts = s.counts()
    assert counts["COMPLETE"] + counts["PRUNED"] == trials
    assert counts["PRUNED"] >= 1 and counts["COMPLETE"] >= 4
    best = s.best_trial
    assert best is not None and abs(s.best_params["x"] - 1.0) < 1.5
    (parent_id,) = s.parent_run_ids
    parent = ws.get_run(parent_id)
    assert parent.status is RunStatus.FINISHED
    assert parent.metrics["best.loss"] == pytest.approx(s.best_value)
    children = ws.search_run_objects(s.name, parent_run_id=parent_id)
    assert len(children) == trials
    by_state: dict[str, int] = {}
    for run in children:
        assert run.status is RunStatus.FINISHED
        assert float(run.params["x"]) == pytest.approx(
            next(t.params["x"] for t in s.trials if t.user_attrs["kiln_run_id"] == run.run_id))
        state = run.tags["kiln.sweep.state"]
        by_state[state] = by_state.get(state, 0) + 1
    assert by_state == {"COMPLETE": counts["COMPLETE"], "PRUNED": counts["PRUNED"]}
    for pruned in (t for t in s.trials if t.state.name == "PRUNED"):
        # the run holds exactly what the pruner saw: it stopped at the step it was pruned
        # (which may be the last one: a trial can fall below the median at any step)
        history = ws.get_metric_history(pruned.user_attrs["kiln_run_id"], "loss")
        assert {m.step: m.value for m in history} == pytest.approx(pruned.intermediate_values)
        assert [m.step for m in history] == list(range(len(history)))
    assert s.best_run_id == best.user_attrs["kiln_run_id"]


@pytest.mark.slow
def test_twenty_trials_on_the_process_executor_record_pruned_trials(ws: Workspace,
                                                                   toy: Path) -> None:
    s = sweep(load_train_fn(f"{toy}:train"), SPACE, trials=20, executor="process", n_jobs=2,
              seed=3, name="proc")
    _check_finished_sweep(s, ws, 20)
    assert set(s.importance()) == {"x"}


@pytest.mark.slow
def test_twenty_trials_on_ray_with_asha(ray_local: None, ws: Workspace, toy: Path) -> None:
    s = sweep(load_train_fn(f"{toy}:train"), SPACE, trials=20, executor="ray", n_jobs=2,
              seed=5, name="on-ray", pruner="asha")
    _check_finished_sweep(s, ws, 20)


def test_failures_are_recorded_and_count_toward_the_trials(ws: Workspace, toy: Path) -> None:
    s = sweep(load_train_fn(f"{toy}:fails_above_zero"), SPACE, trials=8, executor="local",
              seed=1, name="failing", pruner="none", sampler="random")
    counts = s.counts()
    assert counts["FAIL"] >= 1 and counts["COMPLETE"] >= 1
    assert counts["FAIL"] + counts["COMPLETE"] == 8
    failed = next(t for t in s.trials if t.state.name == "FAIL")
    run = ws.get_run(failed.user_attrs["kiln_run_id"])
    assert run.status is RunStatus.FAILED and "too big" in (run.error or "")
    assert s.best_value == pytest.approx(min(t.value for t in s.trials
                                             if t.state.name == "COMPLETE"))


def test_ctrl_c_in_a_trial_then_the_same_call_resumes(ws: Workspace, toy: Path) -> None:
    train = load_train_fn(f"{toy}:train")
    calls: list[float] = []

    def interrupted_once(params: dict[str, float]) -> None:
        calls.append(params["x"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        train(params)

    with pytest.raises(KeyboardInterrupt):
        sweep(interrupted_once, SPACE, trials=6, executor="local", seed=2, name="ctrl-c")
    s = Sweep("ctrl-c", ws)
    assert s.counts()["INTERRUPTED"] == 1
    assert ws.get_run(s.parent_run_ids[0]).status is RunStatus.KILLED
    s = sweep(interrupted_once, SPACE, trials=6, executor="local", seed=2, name="ctrl-c")
    counts = s.counts()
    assert counts["COMPLETE"] + counts["PRUNED"] == 6 and counts["INTERRUPTED"] == 1
    assert calls[3] == calls[2]  # the interrupted parameters ran first on resume
    retried = [t for t in s.trials if t.user_attrs.get("kiln_retry_of") == 2]
    assert len(retried) == 1 and retried[0].params["x"] == calls[2]
    assert len(s.parent_run_ids) == 2


def test_same_name_with_another_space_is_refused(ws: Workspace, toy: Path) -> None:
    fn = load_train_fn(f"{toy}:train")
    sweep(fn, SPACE, trials=1, executor="local", name="fixed")
    with pytest.raises(ConflictError, match="exists with another space"):
        sweep(fn, {"x": {"type": "float", "low": 0.0, "high": 1.0}}, trials=2,
              executor="local", name="fixed")


@pytest.mark.postgres
def test_sweep_on_postgresql(pg_ws: Workspace, toy: Path) -> None:
    s = sweep(load_train_fn(f"{toy}:train"), SPACE, trials=10, executor="local", seed=3,
              name="pg")
    counts = s.counts()
    assert counts["COMPLETE"] + counts["PRUNED"] == 10 and counts["PRUNED"] >= 1
    assert Sweep("pg", pg_ws).best_run_id == s.best_run_id


def _kiln(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiln.cli.main", *args], capture_output=True,
                          text=True, env={**os.environ, "KILN_HOME": str(home), **env},
                          timeout=120, cwd=home)


@pytest.mark.slow
def test_killed_sweep_resumes_to_the_requested_trials(tmp_path: Path, toy: Path) -> None:
    home = tmp_path
    killed = _kiln(home, "sweep", f"{toy}:dies_on_fifth", "--space", "space.yaml",
                   "--trials", "10", "--executor", "local", "--name", "killme",
                   "--heartbeat", "0.5", "--seed", "4", TOY_COUNTER=str(tmp_path / "calls"))
    assert killed.returncode == -9, killed.stderr
    ws = Workspace(home=home)
    with kiln.use_workspace(ws):
        s = Sweep("killme", ws)
        assert s.counts()["RUNNING"] == 1
        assert ws.get_run(s.parent_run_ids[0]).status is RunStatus.RUNNING
        resumed = _kiln(home, "sweep", "resume", "killme", "--executor", "process", "-j", "2",
                        "--json", TOY_COUNTER=str(tmp_path / "calls"))
        assert resumed.returncode == 0, resumed.stderr
        summary = json.loads(resumed.stdout)
        counts = summary["counts"]
        assert counts["COMPLETE"] + counts["PRUNED"] == 10
        assert counts["INTERRUPTED"] == 1 and counts["RUNNING"] == 0
        s = Sweep("killme", ws)
        stale = next(t for t in s.trials if t.system_attrs.get("kiln:interrupted"))
        assert ws.get_run(stale.user_attrs["kiln_run_id"]).status is RunStatus.KILLED
        rerun = next(t for t in s.trials if t.user_attrs.get("kiln_retry_of") == stale.number)
        assert rerun.params == stale.params and rerun.state.name in ("COMPLETE", "PRUNED")
        first, second = s.parent_run_ids
        assert ws.get_run(first).status is RunStatus.KILLED
        assert ws.get_run(second).status is RunStatus.FINISHED
    ws.close()


def test_cli_run_show_html_and_errors(tmp_path: Path, toy: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_HOME", str(tmp_path / ".kiln"))
    monkeypatch.chdir(tmp_path)
    kiln.set_workspace(None)
    runner = CliRunner()
    out = runner.invoke(cli, ["sweep", f"{toy}:train", "--space", "space.yaml", "--trials",
                              "8", "--executor", "local", "--seed", "1", "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    assert summary["name"] == "train" and summary["best"]["run_id"]
    counts = summary["counts"]
    assert counts["COMPLETE"] + counts["PRUNED"] == 8
    out = runner.invoke(cli, ["sweep", "show", "train", "--html", "report.html", "--trials"])
    assert out.exit_code == 0, out.output
    assert "Best trial" in out.output and "param x" in out.output and "importance" in out.output
    page = (tmp_path / "report.html").read_text()
    assert "Parallel Coordinate Plot" in page and "Optimization History" in page
    # plotly.js is embedded (its only CDN mention is a map-tiles default), never fetched.
    assert "<script src=" not in page and len(page) > 1_000_000
    out = runner.invoke(cli, ["sweep", "list", "--json"])
    assert json.loads(out.output)[0]["name"] == "train"
    kiln.get_workspace().close()
    kiln.set_workspace(None)
    (tmp_path / "bad.yaml").write_text("x: {type: float, low: 0, hgh: 1}\n")
    bad = _kiln(tmp_path, "sweep", f"{toy}:train", "--space", "bad.yaml")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: bad.yaml: parameter 'x' has unknown key 'hgh'; accepted for float: high, "
        "log, low, step, type"]
    missing = _kiln(tmp_path, "sweep", "show", "nope")
    assert missing.returncode == 2 and "sweep 'nope' does not exist" in missing.stderr


def test_grid_sweep_visits_each_point_once(ws: Workspace) -> None:
    seen: list[tuple[float, str]] = []

    def train(params: dict[str, object]) -> float:
        seen.append((float(params["a"]), str(params["b"])))  # type: ignore[arg-type]
        return float(params["a"])  # type: ignore[arg-type]

    s = sweep(train, {"a": {"type": "float", "low": 0.0, "high": 1.0, "step": 0.5},
                      "b": ["u", "v"]}, trials=50, executor="local", sampler="grid",
              pruner="none", name="grid")
    assert sorted(seen) == [(a, b) for a in (0.0, 0.5, 1.0) for b in ("u", "v")]
    assert s.counts()["COMPLETE"] == 6 and s.best_value == 0.0


def test_sweeps_need_a_sql_store(ws: Workspace) -> None:
    from kiln.exceptions import ConfigError

    with pytest.raises(ConfigError, match="SQL metadata store"):
        Sweep("any", store=object())
