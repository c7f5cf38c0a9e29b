"""``kiln features`` as a user runs it: apply with a diff, list, materialize, get, serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from features_data import make_stats

DEFS = '''
from datetime import timedelta
from kiln.features import Entity, Feature, FeatureView

driver = Entity("driver", join_keys=["driver_id"])
driver_stats = FeatureView(
    "driver_stats", entities=[driver], source="stats.parquet",
    features=[Feature("f0", "float32"), Feature("f1", "float64"){extra}],
    ttl={ttl},
)
'''


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "kiln.cli.main", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)


def test_apply_list_materialize_get(tmp_path: Path) -> None:
    make_stats().to_parquet(tmp_path / "stats.parquet", index=False)
    (tmp_path / "defs.py").write_text(DEFS.format(extra="", ttl="None"))
    out = _cli(tmp_path, "features", "apply", "defs.py")
    assert out.returncode == 0, out.stderr
    assert "+ entity driver (v1)" in out.stdout and "+ feature view driver_stats (v1)" in out.stdout
    (tmp_path / "feature_defs.py").write_text(
        DEFS.format(extra=', Feature("trips", "int64")', ttl="timedelta(days=30)"))
    out = _cli(tmp_path, "features", "apply", "feature_defs")  # as a dotted module name
    assert out.returncode == 0, out.stderr
    assert "~ feature view driver_stats v1 -> v2" in out.stdout
    assert "+ feature trips (int64)" in out.stdout
    assert "ttl_seconds: None -> 2592000.0" in out.stdout
    assert "entity driver unchanged (v1)" in out.stdout

    out = _cli(tmp_path, "features", "materialize")
    assert out.returncode == 0, out.stderr
    assert "driver_stats v2: 50 entities written (beginning .." in out.stdout
    listed = json.loads(_cli(tmp_path, "features", "list", "--json").stdout)
    assert [(v["name"], v["version"], v["features"]) for v in listed] == [("driver_stats", 2, 3)]
    assert listed[0]["materialized_until"]
    shown = json.loads(_cli(tmp_path, "features", "show", "driver_stats", "--json").stdout)
    assert [v["version"] for v in shown] == [1, 2]

    got = _cli(tmp_path, "features", "get", "driver_stats:trips", "-e", "driver_id=1001",
               "-e", "driver_id=7", "--json")
    assert got.returncode == 0, got.stderr
    data = json.loads(got.stdout)
    assert data["entities"] == {"driver_id": [1001, 7]}
    assert isinstance(data["features"]["trips"][0], int) and data["features"]["trips"][1] is None


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    make_stats().drop(columns=["f1"]).to_parquet(tmp_path / "stats.parquet", index=False)
    (tmp_path / "defs.py").write_text(DEFS.format(extra="", ttl="None"))
    for args, fragment in [
        (("features", "apply", "defs.py"), "has no column 'f1' (feature)"),
        (("features", "apply", "missing_module"), "'missing_module' cannot be found"),
        (("features", "materialize"), "no feature views are registered"),
        (("features", "get", "x:y", "-e", "driver_id=1"), "'x' is not registered"),
    ]:
        out = _cli(tmp_path, *args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.startswith("error: ") and fragment in out.stderr, out.stderr
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_over_http(tmp_path: Path) -> None:
    make_stats().to_parquet(tmp_path / "stats.parquet", index=False)
    (tmp_path / "defs.py").write_text(DEFS.format(extra="", ttl="None"))
    assert _cli(tmp_path, "features", "apply", "defs.py").returncode == 0
    assert _cli(tmp_path, "features", "materialize").returncode == 0
    port = _free_port()
    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln")}
    server = subprocess.Popen([sys.executable, "-m", "kiln.cli.main", "features", "serve",
                               "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        body = json.dumps({"features": ["driver_stats:f1"],
                           "entities": {"driver_id": [1001]}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/get-online-features",
                                         data=body, headers={"Content-Type": "application/json"})
        for _ in range(200):
            try:
                with urllib.request.urlopen(request, timeout=5) as r:
                    data = json.loads(r.read())
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            raise AssertionError("server did not start")
        assert isinstance(data["features"]["f1"][0], float)
        bad = urllib.request.Request(f"http://127.0.0.1:{port}/get-online-features",
                                     data=b"{}", headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(bad, timeout=5)
            raise AssertionError("expected a 400")
        except urllib.error.HTTPError as exc:
            assert exc.code == 400 and "error" in json.loads(exc.read())
    finally:
        server.terminate()
        server.wait(timeout=30)
