"""A model trained on a dataset version, deployed as ``churn``: shared by monitoring tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from monitor_data import churn_frame, train

from kiln.workspace import Workspace


@pytest.fixture
def deployed(ws: Workspace, tmp_path: Path) -> Workspace:
    """``churn-clf`` v1 trained on dataset ``churn@1``, production, deployment ``churn``."""
    train(ws, churn_frame(400), tmp_path)
    ws.set_alias("churn-clf", "production", 1)
    ws.create_deployment("churn", ["churn-clf@production:100"])
    return ws
