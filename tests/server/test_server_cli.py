"""``kiln server`` as a user starts it: a subprocess, N workers, auth forced off loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kiln(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiln.cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln")}
    env.pop("KILN_SERVER", None)
    env.pop("KILN_TOKEN", None)
    return env


@pytest.fixture
def public_server(project: dict[str, str]) -> Iterator[str]:
    """``kiln server --host 0.0.0.0 --workers 2``: auth is forced on."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kiln.cli.main", "server", "--host", "0.0.0.0",
                             "--port", str(port), "--workers", "2"], env=project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        assert "kiln_" not in err  # no token in the server's output
        assert "auth on" in err and "2 workers" in err


def test_public_server_needs_tokens_and_sdk_uses_them(public_server: str,
                                                      project: dict[str, str]) -> None:
    r = httpx.get(f"{public_server}/api/v1/experiments")
    assert r.status_code == 401
    assert _kiln(project, "users", "create", "ci", "--role", "editor").returncode == 0
    token = _kiln(project, "tokens", "create", "ci").stdout.strip()
    client_env = {**project, "KILN_SERVER": public_server, "KILN_TOKEN": token,
                  "KILN_HOME": project["KILN_HOME"] + "-client"}
    code = ("import kiln\n"
            "with kiln.start_run(experiment='ci', name='nightly'):\n"
            "    kiln.log_metric('auc', 0.9)\n")
    out = subprocess.run([sys.executable, "-c", code], env=client_env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    listed = _kiln(client_env, "runs", "list", "-e", "ci", "--json")
    assert listed.returncode == 0 and '"user": "ci"' in listed.stdout
    no_token = {k: v for k, v in client_env.items() if k != "KILN_TOKEN"}
    denied = _kiln(no_token, "runs", "list")
    assert denied.returncode == 2 and denied.stderr.startswith("error: this kiln server needs")
