"""Triggers and the scheduler: missed schedules, alerts, datasets, commits, two schedulers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kiln import pipeline, step
from kiln.exceptions import InvalidArgumentError
from kiln.pipelines.scheduler import Scheduler
from kiln.pipelines.triggers import on_alert, on_commit, on_dataset, record_alert, schedule
from kiln.workspace import Workspace

VERSIONS: list[str] = []


@step
def echo(value: str) -> str:
    return value


@pipeline(triggers=[schedule(cron="0 * * * *")])
def hourly(value: str = "x"):
    echo(value)


@pipeline(triggers=[on_alert("churn-drift", param="value")])
def on_drift(value: str = "none"):
    echo(str(value))


@pipeline(triggers=[on_dataset("churn", versions=lambda ws, name: list(VERSIONS),
                               param="value")])
def on_new_data(value: str = "none"):
    echo(value)


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


def _runs(ws: Workspace, trigger: str) -> list[str]:
    runs = ws.search_run_objects(filter="tags.`kiln.type` = 'pipeline'", max_results=1000)
    return [r.tags["kiln.fire_key"] for r in runs if r.tags.get("kiln.trigger") == trigger]


@pytest.mark.parametrize(("missed", "fires"), [("catch_up", 1), ("skip", 0)])
def test_missed_schedules_catch_up_once_or_skip(ws: Workspace, missed: str, fires: int) -> None:
    sched = Scheduler(ws, pipelines=[hourly], missed=missed)
    (tid,) = [t.trigger_id for t in sched.triggers()]
    assert sched.tick(now=_ms("2026-01-01T00:10:00")) == []  # first sight: remember the time
    # Down for five and a half hours: five runs were missed, the last 30 minutes ago.
    fired = sched.tick(now=_ms("2026-01-01T05:30:00"))
    assert len(fired) == fires
    assert len(_runs(ws, tid)) == fires
    # On time again: the 06:00 run fires under either policy, once.
    assert [f.fire_key for f in sched.tick(now=_ms("2026-01-01T06:00:20"))] == [
        str(_ms("2026-01-01T06:00:00"))]
    assert sched.tick(now=_ms("2026-01-01T06:00:40")) == []


def test_alerts_fire_once_with_the_event(ws: Workspace) -> None:
    sched = Scheduler(ws, pipelines=[on_drift])
    record_alert("churn-drift", {"psi": 0.4})  # before the trigger was first seen: ignored
    assert sched.tick() == []
    event = record_alert("churn-drift", {"psi": 0.5})
    (fired,) = sched.tick()
    assert fired.status == "FINISHED" and fired.fire_key == f"alert:{event}"
    assert ws.get_run(fired.run_id or "").params == {"value": str(event)}
    assert sched.tick() == []


def test_new_dataset_versions_fire(ws: Workspace) -> None:
    VERSIONS[:] = ["1"]
    sched = Scheduler(ws, pipelines=[on_new_data])
    assert sched.tick() == []
    assert sched.tick() == []
    VERSIONS.append("2")
    (fired,) = sched.tick()
    assert fired.fire_key == "churn@2"
    assert ws.get_run(fired.run_id or "").params == {"value": "churn@2"}
    assert sched.tick() == []


def test_commits_fire(ws: Workspace, tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@x", *args], cwd=tmp_path,
                       check=True, capture_output=True)

    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "one")

    @pipeline(triggers=[on_commit(str(tmp_path))])
    def ci(value: str = "ci"):
        echo(value)

    sched = Scheduler(ws, pipelines=[ci])
    assert sched.tick() == []
    git("commit", "-q", "--allow-empty", "-m", "two")
    assert len(sched.tick()) == 1
    assert sched.tick() == []


def test_only_the_lease_holder_fires(ws: Workspace) -> None:
    a = Scheduler(ws, pipelines=[on_drift], owner="a")
    b = Scheduler(ws, pipelines=[on_drift], owner="b")
    a.tick()
    record_alert("churn-drift")
    assert b.tick() == []
    assert len(a.tick()) == 1


def test_bad_trigger_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="cron expression 'every day' is not valid"):
        schedule(cron="every day")
    with pytest.raises(InvalidArgumentError, match="missed='later' is not accepted"):
        schedule(cron="0 3 * * *", missed="later")


FLOW = '''
from kiln import pipeline, step
from kiln.pipelines.triggers import schedule


@step
def tick(n: int) -> int:
    return n


@pipeline(triggers=[schedule(cron="* * * * * *")])
def every_second(n: int = 1):
    tick(n)
'''


@pytest.mark.postgres
def test_two_schedulers_on_postgres_never_fire_twice(postgres_url: str, tmp_path: Path) -> None:
    (tmp_path / "sched_flow.py").write_text(FLOW)
    env = {**os.environ, "KILN_DB_URL": postgres_url, "KILN_ARTIFACTS_URL": str(tmp_path / "a"),
           "KILN_HOME": str(tmp_path / ".kiln")}
    # One holds the lease and fires; the other waits. Fire keys are unique in the store anyway.
    procs = [subprocess.Popen([sys.executable, "-c",
                               "import sys; from kiln.cli.main import main; main(sys.argv[1:])",
                               "scheduler", "-m", "sched_flow", "--interval", "0.1"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    ws = Workspace(db_url=postgres_url, artifacts_url=str(tmp_path / "a"))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            triggers = ws.store.list_triggers()
            if triggers and ws.store.count_fires(triggers[0].trigger_id) >= 4:
                break
            assert all(p.poll() is None for p in procs), procs[0].stderr
            time.sleep(0.2)
        for p in procs:
            p.send_signal(signal.SIGTERM)
        outputs = [p.communicate(timeout=60) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        assert all("scheduler stopped" in err for _, err in outputs)
        (trigger,) = ws.store.list_triggers()
        keys = _runs(ws, trigger.trigger_id)
        assert len(keys) >= 4
        assert len(keys) == len(set(keys)) == ws.store.count_fires(trigger.trigger_id)
        # Both stopped cleanly: the lease is free for the next scheduler at once.
        assert ws.store.acquire_lease("scheduler", "next", int(time.time() * 1000), 1000)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        ws.close()
