"""A lean start: the first answered request loads no router, template, plotly, pandas or
Alembic (schema already at head); the API and the pages load on their first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CHECK = """
import json, sys, warnings
warnings.simplefilter("ignore")
from starlette.testclient import TestClient
from kiln.server.app import app_from_env
heavy = ("kiln.server.api.tracking", "kiln.server.api.deployments", "kiln.server.ui.tracking",
         "jinja2", "plotly", "pandas", "alembic")
loaded = {}
with TestClient(app_from_env()) as client:
    assert client.get("/api/v1/health").status_code == 200
    loaded["health"] = [m for m in heavy if m in sys.modules]
    assert client.get("/api/v1/experiments").status_code == 200
    loaded["api"] = [m for m in heavy if m in sys.modules]
    assert client.get("/").status_code == 200
    loaded["ui"] = [m for m in heavy if m in sys.modules]
    spec = client.get("/api/v1/openapi.json").json()
    loaded["tags"] = sorted({t for p in spec["paths"].values() for op in p.values()
                             for t in op.get("tags", ())})
print(json.dumps(loaded))
"""


def test_first_request_loads_nothing_heavy(tmp_path: Path) -> None:
    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln")}
    env.pop("KILN_SERVER", None)
    # migrate once, as `kiln server` does before it serves
    subprocess.run([sys.executable, "-m", "kiln.cli.main", "users", "list"], env=env,
                   check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["health"] == []
    assert "kiln.server.api.tracking" in loaded["api"] and "jinja2" not in loaded["api"]
    assert "kiln.server.ui.tracking" in loaded["ui"] and "jinja2" in loaded["ui"]
    assert "alembic" not in loaded["ui"]
    assert {"audit", "data", "deployments", "features", "pipelines", "tracking"} <= set(
        loaded["tags"])
