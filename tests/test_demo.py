"""`kiln demo`, the README's main job, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_runs_the_lifecycle(tmp_path: Path) -> None:
    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln"), "COLUMNS": "120"}
    cli = [sys.executable, "-m", "kiln.cli.main"]
    out = subprocess.run([*cli, "demo"], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "breast-cancer-clf@production -> version 1" in out.stdout
    assert "kiln runs list" in out.stdout
    assert "kiln ui" in out.stdout
    runs = json.loads(subprocess.run([*cli, "runs", "list", "-e", "breast-cancer", "--json"],
                                     capture_output=True, text=True, env=env, check=True).stdout)
    assert len(runs) == 8 and all(r["status"] == "FINISHED" for r in runs)
    assert all(r["metrics"]["auc"] > 0.95 for r in runs)
    model = json.loads(subprocess.run([*cli, "models", "show", "breast-cancer-clf", "--json"],
                                      capture_output=True, text=True, env=env,
                                      check=True).stdout)
    assert model["aliases"] == {"production": 1}
    best = max(runs, key=lambda r: r["metrics"]["auc"])
    assert model["versions"][0]["run_id"] == best["run_id"]
