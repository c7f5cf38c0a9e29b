"""Several processes appending to one audit chain (SQLite and PostgreSQL) keep it valid."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from kiln.workspace import Workspace

PROCESSES = 4
RUNS = 8


def _worker(db_url: str, artifacts: str, worker: int) -> None:
    ws = Workspace(db_url=db_url, artifacts_url=artifacts)
    for r in range(RUNS):
        ws.end_run(ws.create_run("parallel", name=f"w{worker}-r{r}").run_id)
    ws.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kiln.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_processes_share_one_chain(db_url: str, tmp_path: Path) -> None:
    artifacts = str(tmp_path / "artifacts")
    Workspace(db_url=db_url, artifacts_url=artifacts).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(db_url, artifacts, w)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    with Workspace(db_url=db_url, artifacts_url=artifacts) as ws:
        result = ws.verify_audit_log()
    assert result.ok and result.checked == PROCESSES * RUNS * 2, result.message()
