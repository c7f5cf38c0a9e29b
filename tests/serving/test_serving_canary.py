"""Canary rollback with several servers on one PostgreSQL store: exactly one rollback."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from starlette.testclient import TestClient

from kiln.entities import CanaryPolicy
from kiln.serving.app import create_app
from kiln.serving.runtime import ServerOptions
from kiln.workspace import Workspace

pytestmark = [pytest.mark.postgres, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _flaky(df: pd.DataFrame) -> pd.Series:
    if (df["x"] < 0).any():
        raise ValueError("negative x")
    return df["x"] * 2


def _rollbacks(client: TestClient) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in client.get("/metrics").text.splitlines()
               if line.startswith("kiln_canary_rollbacks_total{"))


def test_two_servers_roll_a_failing_canary_back_once(pg_ws: Workspace, postgres_url: str,
                                                     tmp_path: object) -> None:
    pg_ws.log_model(None, lambda df: df["x"] * 3, "m", input_example=pd.DataFrame({"x": [1.0]}))
    pg_ws.log_model(None, _flaky, "m", input_example=pd.DataFrame({"x": [1.0]}))
    pg_ws.set_alias("m", "stable", 1)
    pg_ws.set_alias("m", "canary", 2)
    pg_ws.create_deployment("d", ["m@stable:50", "m@canary:50"],
                            canary=CanaryPolicy("m@canary", max_error_rate=0.2, window=20,
                                                min_requests=10))
    # a second process's view of the same store: its own workspace and connections
    other = Workspace(db_url=postgres_url, artifacts_url=str(tmp_path))
    options = ServerOptions(poll_seconds=3600, log_predictions=False)
    try:
        with TestClient(create_app(pg_ws, "d", options)) as a, \
                TestClient(create_app(other, "d", options)) as b:
            # both servers loaded version 1; a's canary fails first and rolls back
            for _ in range(60):
                a.post("/predict", json={"records": [{"x": -1.0}]})
            assert _rollbacks(a) == 1
            assert pg_ws.get_deployment("d").version == 2
            # b still serves version 1; its own window now fails too, but the version it
            # decided on is gone: it must follow version 2, not roll back a second time
            statuses = [b.post("/predict", json={"records": [{"x": -1.0}]}).status_code
                        for _ in range(60)]
            assert _rollbacks(b) == 0
            deadline = time.monotonic() + 30  # b's conflict makes it load version 2
            while b.app.runtime.table.deployment.version != 2:  # type: ignore[attr-defined]
                assert time.monotonic() < deadline
                time.sleep(0.05)
            later = {b.post("/predict", json={"records": [{"x": 1.0}]}).json()["route"]
                     for _ in range(20)}
    finally:
        other.close()
    assert 500 in statuses  # b's canary did fail (and its window tripped) before it followed
    assert later == {"m@stable"}
    history = pg_ws.deployment_history("d")
    assert [h.action for h in history] == ["create", "auto-rollback"]
    assert {r.target: r.weight for r in history[-1].routes} == {"m@stable": 50, "m@canary": 0}
