"""The real server: ``kiln serve`` in a subprocess on a free loopback port, driven by httpx."""

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
from typing import Any

import httpx
import pytest

from kiln.workspace import Workspace


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    def __init__(self, home: Path, deployment: str, *args: str,
                 env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KILN_HOME": str(home), **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiln.cli.main", "serve", deployment, "--port",
             str(self.port), *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.proc.communicate()[1]}")
            try:
                if httpx.get(self.url + "/v2/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError("server did not become ready")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


@pytest.fixture
def home(served: Workspace) -> Iterator[Path]:
    yield Path(served.settings.home)


def test_no_request_fails_during_a_hot_swap_under_load(served: Workspace, home: Path,
                                                       breast_cancer: Any) -> None:
    X, _ = breast_cancer
    body = {"records": X.head(1).to_dict(orient="records")}
    server = Server(home, "churn", "--poll-seconds", "0.2")
    statuses: list[int] = []
    versions: list[int] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                r = client.post("/predict", json=body)
                statuses.append(r.status_code)
                if r.status_code == 200:
                    versions.append(r.json()["model_version"])

    threads = [threading.Thread(target=load) for _ in range(4)]
    try:
        for th in threads:
            th.start()
        while len(statuses) < 100:
            time.sleep(0.01)
        served.set_alias("bc", "production", 3)
        served.set_weights("churn", {"bc@production": 100, "bc@challenger": 0})
        seen = 0
        while seen < 100:  # wait for 100 answers from the new version
            seen = sum(1 for v in versions[-100:] if v == 3)
            time.sleep(0.05)
            assert server.proc.poll() is None
    finally:
        stop.set()
        for th in threads:
            th.join()
        err = server.stop()
    assert server.proc.returncode in (0, -signal.SIGTERM), err  # uvicorn re-raises SIGTERM
    assert set(statuses) == {200}
    assert 1 in versions and versions[-1] == 3
    log = served.read_prediction_log("churn")
    assert len(log[~log["shadow"]]) == len(statuses)  # graceful shutdown flushed all of them
    assert set(log[log["shadow"]]["route"]) == {"bc@candidate"}


def _total(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{"))


def test_several_workers_serve_and_log_every_request(served: Workspace, home: Path,
                                                     breast_cancer: Any, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    X, model = breast_cancer
    shared = tmp_path / "metrics"
    shared.mkdir()
    server = Server(home, "churn", "--workers", "2",
                    env={"PROMETHEUS_MULTIPROC_DIR": str(shared)})

    def one(i: int) -> httpx.Response:  # a new connection each: both workers get some
        return httpx.post(server.url + "/predict", timeout=30,
                          json={"records": X.iloc[i:i + 1].to_dict(orient="records")})

    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(one, range(40)))
        bad = httpx.post(server.url + "/predict", content=b"{",
                         headers={"content-type": "application/json"})
        scrapes = [httpx.get(server.url + "/metrics").text for _ in range(6)]
        counted = {p.name.rsplit("_", 1)[1] for p in shared.glob("counter_*.db")}
    finally:
        err = server.stop()
    assert server.proc.returncode in (0, -signal.SIGTERM), err  # uvicorn re-raises SIGTERM
    assert [a.json()["predictions"][0] for a in answers] == model.predict(X.head(40)).tolist()
    assert bad.status_code == 400
    assert len(counted) == 2  # both worker processes answered requests...
    for text in scrapes:  # ...and whichever answers /metrics reports the totals of both
        assert _total(text, "kiln_requests_total") == 40
        assert _total(text, "kiln_errors_total") == 1
        assert _total(text, "kiln_request_latency_seconds_count") == 40
        assert "kiln_queue_depth{" in text
    log = served.read_prediction_log("churn")
    assert set(log[~log["shadow"]]["request_id"]) == {a.headers["x-request-id"]
                                                      for a in answers}


def test_unknown_deployment_is_one_line(home: Path, served: Workspace) -> None:
    env = {**os.environ, "KILN_HOME": str(home)}
    out = subprocess.run([sys.executable, "-m", "kiln.cli.main", "serve", "nope", "--port",
                          str(_free_port())], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip() == ("error: deployment 'nope' does not exist; "
                                  "deployments: 'churn'")


@pytest.mark.slow
def test_kiln_serve_runs_non_sklearn_flavors_and_their_onnx_conversion(ws: Workspace) -> None:
    """``kiln serve`` (a real process) answers for a PyTorch and a LightGBM model; the
    LightGBM deployment answers through its checked ONNX conversion."""
    import numpy as np

    from kiln.registry.convert import convert_to_onnx
    from kiln.testing.flavor_examples import data, lightgbm_model, torch_mlp

    X = data()[0]
    for name, make in (("torch-net", torch_mlp), ("lgbm", lightgbm_model)):
        ws.log_model(None, make(), name, input_example=X.head(5))
        ws.set_alias(name, "production", 1)
        ws.create_deployment(name, [f"{name}@production:100"], [])
    converted = convert_to_onnx(ws, "lgbm", 1)
    assert converted.target.flavor == "onnx"
    home = Path(ws.settings.home)
    rows = X.head(4).to_dict(orient="records")
    for name in ("torch-net", "lgbm"):
        native = np.asarray(ws.load_model(f"models:/{name}/1").predict(X.head(4)), dtype=float)
        server = Server(home, name)
        try:
            r = httpx.post(server.url + "/predict", json={"records": rows}, timeout=30)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["model_version"] == 1
            meta = httpx.get(f"{server.url}/v2/models/{name}", timeout=30).json()
            runtime = "onnx" if name == "lgbm" else "torch"  # the checked conversion is used
            assert [r["runtime"] for r in meta["routes"]] == [runtime]
            np.testing.assert_allclose(np.asarray(body["predictions"], dtype=float), native,
                                       rtol=1e-4, atol=1e-5)
        finally:
            server.stop()
