"""Several server processes on one PostgreSQL: concurrent writes through both stay
consistent (distinct version numbers, no lost metric point, one audit chain)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kiln.entities import Metric, RunStatus
from kiln.metadata.rest import RestMetadataStore

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_servers(postgres_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """``kiln server --workers 2`` and a second ``kiln server``, both on one database."""
    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln"), "KILN_DB_URL": postgres_url}
    env.pop("KILN_SERVER", None)
    procs, urls = [], []
    for workers in ("2", "1"):
        port = _free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "kiln.cli.main", "server", "--port", str(port),
             "--workers", workers], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for proc, url in zip(procs, urls, strict=True):
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
        yield urls
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def test_concurrent_writes_through_several_processes(two_servers: list[str]) -> None:
    stores = [RestMetadataStore(url) for url in two_servers for _ in range(3)]
    exp = stores[0].get_or_create_experiment("shared")
    run = stores[0].create_run(exp.experiment_id, "r", "u", 1, {})
    versions: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(i: int, store: RestMetadataStore) -> None:
        try:
            for j in range(8):
                mv = store.create_model_version("clf", run_id=None, flavor="sklearn",
                                                artifact="a" * 64, signature=None, user=f"u{i}",
                                                created_at=j)
                store.write_metrics([(run.run_id, Metric("loss", i * 100 + j, i * 100 + j, j))])
                store.create_dataset_version("d", tree="b" * 64, kind="file", size=1,
                                             file_count=1, rows=None, schema=None, user="u",
                                             created_at=j, git_commit=None, source="x")
                with lock:
                    versions.append(mv.version)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(stores)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    n = len(stores) * 8
    assert sorted(versions) == list(range(1, n + 1))
    check = RestMetadataStore(two_servers[1])
    assert [v.version for v in check.list_model_versions("clf")] == list(range(1, n + 1))
    assert [v.version for v in check.list_dataset_versions("d")] == list(range(1, n + 1))
    history = check.get_metric_history(run.run_id, "loss")
    assert sorted(m.step for m in history) == sorted(i * 100 + j for i in range(len(stores))
                                                     for j in range(8))
    check.end_run(run.run_id, RunStatus.FINISHED, 2)
    verify = httpx.get(f"{two_servers[0]}/api/v1/audit/verify").json()
    assert verify["ok"], verify["message"]
    assert verify["checked"] == 1 + n + 1  # run created, n versions, run ended
    for s in (*stores, check):
        s.close()
