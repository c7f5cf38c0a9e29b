"""A live ``kiln server`` (uvicorn in a thread, on a free port) over fresh stores."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kiln.artifacts.local import LocalArtifactStore
from kiln.metadata.sql import SqlMetadataStore


@dataclass
class LiveServer:
    url: str
    store: SqlMetadataStore
    artifacts: LocalArtifactStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(db_url: str, artifacts_root: Path, *, auth: bool = False, ui: bool = True,
          artifacts_url: str | None = None, settings: Any = None) -> Iterator[LiveServer]:
    """Start a server on 127.0.0.1 in a background thread; stop it on exit."""
    import uvicorn

    from kiln.server.app import create_app

    store = SqlMetadataStore(db_url)
    artifacts = LocalArtifactStore(artifacts_root)
    served: Any = artifacts
    if artifacts_url is not None:
        from kiln.artifacts import open_artifact_store

        served = open_artifact_store(artifacts_url)
    app = create_app(store, served, auth=auth, ui=ui, settings=settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("kiln server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", store, artifacts)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """A server without auth over a new SQLite database."""
    with serve(f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "artifacts") as srv:
        yield srv


@pytest.fixture
def live_auth(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with auth on over a new SQLite database."""
    with serve(f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "artifacts", auth=True) as srv:
        yield srv


@pytest.fixture
def start_server() -> object:
    """``serve`` itself, for tests that pick the database (PostgreSQL) or auth."""
    return serve
