"""Several processes logging to one SQLite store at once lose nothing."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from kiln.workspace import Workspace

PROCESSES = 8
RUNS_PER_PROCESS = 5
POINTS_PER_RUN = 400


def _worker(db_url: str, artifacts: str, worker: int) -> None:
    import kiln

    ws = Workspace(db_url=db_url, artifacts_url=artifacts)
    kiln.set_workspace(ws)
    for r in range(RUNS_PER_PROCESS):
        with kiln.start_run(experiment="parallel", name=f"w{worker}-r{r}"):
            kiln.log_params({"worker": worker, "run": r})
            for i in range(POINTS_PER_RUN):
                kiln.log_metric("loss", i / POINTS_PER_RUN, step=i)
            kiln.set_tag("done", "yes")
    ws.close()


def test_eight_processes_share_one_sqlite_store(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'kiln.db'}"
    artifacts = str(tmp_path / "artifacts")
    Workspace(db_url=db_url, artifacts_url=artifacts).close()  # not required: also races below
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(db_url, artifacts, w)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    ws = Workspace(db_url=db_url, artifacts_url=artifacts)
    runs = ws.search_run_objects("parallel", max_results=1000)
    assert len(runs) == PROCESSES * RUNS_PER_PROCESS
    assert all(r.status.value == "FINISHED" and r.tags["done"] == "yes" for r in runs)
    for run in runs:
        assert len(ws.get_metric_history(run.run_id, "loss")) == POINTS_PER_RUN
    ws.close()


def test_concurrent_first_use_migrates_once(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(db_url, str(tmp_path / "a"), w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    assert [p.exitcode for p in procs] == [0] * 4
