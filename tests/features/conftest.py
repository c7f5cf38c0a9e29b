"""Feature-store fixtures: synthetic driver stats in Parquet, and workspaces on both stacks
(SQLite metadata + SQLite online store; PostgreSQL metadata + Redis online store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from features_data import make_stats

import kiln
from kiln.settings import Settings
from kiln.workspace import Workspace


@pytest.fixture
def stats(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    frame = make_stats()
    path = tmp_path / "stats.parquet"
    frame.to_parquet(path, index=False)
    return frame, path


@pytest.fixture(params=["sqlite", "postgres+redis"])
def fws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    """A workspace on each stack, also the fluent default."""
    if request.param == "sqlite":
        settings = Settings(home=tmp_path / "home")
    else:
        settings = Settings(home=tmp_path / "home",
                            db_url=request.getfixturevalue("postgres_url"),
                            online_store=request.getfixturevalue("redis_url"))
    ws = Workspace(settings=settings)
    with kiln.use_workspace(ws):
        yield ws
    ws.close()
