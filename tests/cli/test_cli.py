"""The kiln CLI used as a user would: real processes, real exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import kiln
from kiln.workspace import Workspace

KILN = [sys.executable, "-m", "kiln.cli.main"]


def kiln_cli(home: Path, *args: str, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "KILN_HOME": str(home), "COLUMNS": "200", **(env or {})}
    return subprocess.run([*KILN, *args], capture_output=True, text=True, env=full_env,
                          timeout=120, cwd=home)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    ws = Workspace(home=tmp_path)
    with kiln.use_workspace(ws):
        for c in (0.1, 1.0):
            with kiln.start_run(experiment="churn", name=f"c{c}") as run:
                kiln.log_params({"C": c})
                kiln.log_metric("auc", 0.9 + c / 100)
                kiln.log_text("hello", "notes/readme.txt")
                kiln.log_model(lambda df: [1] * len(df), name="churn-clf")
        kiln.set_alias("churn-clf", "production", 2)
    os.environ.pop("KILN_RUN_ID", None)
    (tmp_path / "last_run").write_text(run.run_id)
    ws.close()
    yield tmp_path


def test_runs_list_show_compare(home: Path) -> None:
    out = kiln_cli(home, "runs", "list", "-e", "churn", "--order-by", "metrics.auc DESC",
                   "--json")
    assert out.returncode == 0, out.stderr
    runs = json.loads(out.stdout)
    assert [r["name"] for r in runs] == ["c1.0", "c0.1"]
    assert runs[0]["metrics"]["auc"] == pytest.approx(0.91)
    table = kiln_cli(home, "runs", "list", "--filter", "params.C = '0.1'")
    assert table.returncode == 0 and "c0.1" in table.stdout and "c1.0" not in table.stdout
    run_id = runs[0]["run_id"]
    show = kiln_cli(home, "runs", "show", run_id)
    assert show.returncode == 0 and "notes/readme.txt" in show.stdout and "auc" in show.stdout
    cmp = kiln_cli(home, "runs", "compare", runs[0]["run_id"], runs[1]["run_id"], "--json")
    rows = {r["key"]: r for r in json.loads(cmp.stdout)["rows"]}
    assert set(rows) == {"params.C", "metrics.auc"}
    exps = kiln_cli(home, "experiments", "list", "--json")
    assert [e["name"] for e in json.loads(exps.stdout)] == ["churn"]


def test_models_and_aliases(home: Path) -> None:
    listing = json.loads(kiln_cli(home, "models", "list", "--json").stdout)
    assert listing == [{"name": "churn-clf", "latest_version": 2,
                        "aliases": "production→2", "created_at": listing[0]["created_at"]}]
    versions = json.loads(kiln_cli(home, "models", "versions", "churn-clf", "--json").stdout)
    assert [v["version"] for v in versions] == [1, 2]
    assert kiln_cli(home, "models", "alias", "set", "churn-clf", "production", "1").returncode == 0
    shown = json.loads(kiln_cli(home, "models", "show", "churn-clf", "--json").stdout)
    assert shown["aliases"] == {"production": 1}
    assert [(e["from_version"], e["to_version"]) for e in shown["alias_history"]] == [
        (None, 2), (2, 1)]
    one = json.loads(kiln_cli(home, "models", "show", "models:/churn-clf@production",
                              "--json").stdout)
    assert one["version"] == 1
    assert kiln_cli(home, "models", "alias", "delete", "churn-clf", "production").returncode == 0
    assert "production" not in kiln_cli(home, "models", "list").stdout


def test_artifacts_get(home: Path, tmp_path: Path) -> None:
    run_id = (home / "last_run").read_text()
    out = kiln_cli(home, "artifacts", "get", run_id, "notes", "-o", str(tmp_path / "dl"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "dl" / "notes" / "readme.txt").read_text() == "hello"
    arts = json.loads(kiln_cli(home, "artifacts", "list", run_id, "--json").stdout)
    sha = next(a["sha256"] for a in arts if a["path"] == "notes/readme.txt")
    out = kiln_cli(home, "artifacts", "get", f"sha256:{sha}", "-o", str(tmp_path / "one.txt"))
    assert out.returncode == 0 and (tmp_path / "one.txt").read_text() == "hello"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["runs", "show", "nope"], {}, "run 'nope' does not exist"),
        (["runs", "list", "--filter", "metrics.auc > 'x'"], {}, "expected a number"),
        (["runs", "list", "--filter", "foo = 1"], {}, "invalid filter"),
        (["runs", "list", "-e", "ghost"], {}, "experiment 'ghost' does not exist"),
        (["models", "show", "ghost"], {}, "model 'ghost' is not registered"),
        (["models", "show", "models:/churn-clf/9"], {}, "no version 9"),
        (["models", "alias", "set", "churn-clf", "prod", "x"], {}, "version 'x'"),
        (["models", "alias", "delete", "churn-clf", "nope"], {}, "no alias 'nope'"),
        (["artifacts", "get", "sha256:12"], {}, "is not a sha256"),
        (["runs", "list"], {"KILN_DB_URL": "postgresql+psycopg://kiln@127.0.0.1:1/x"},
         "cannot reach metadata store"),
        (["runs", "list"], {"KILN_DB_URL": "mysql://x"}, "scheme 'mysql' is not known"),
        (["runs", "list"], {"KILN_METRIC_FLUSH_INTERVAL": "soon"}, "not a number"),
    ],
)
def test_bad_input_is_one_line_exit_2(home: Path, args: list[str], env: dict[str, str],
                                      message: str) -> None:
    out = kiln_cli(home, *args, env=env)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_help_lists_commands(home: Path) -> None:
    out = kiln_cli(home, "--help")
    assert out.returncode == 0
    for cmd in ("runs", "models", "artifacts", "demo", "experiments", "lineage"):
        assert cmd in out.stdout


def test_lineage_walks_both_ways(home: Path) -> None:
    run_id = (home / "last_run").read_text()
    up = json.loads(kiln_cli(home, "lineage", "models:/churn-clf@production", "--json").stdout)
    assert up["node"] == {"kind": "model_version", "id": "churn-clf/2"}
    assert [(n["kind"], n["id"], n["relation"]) for n in up["upstream"]] == [
        ("run", run_id, "produced")]
    down = json.loads(kiln_cli(home, "lineage", run_id, "--json").stdout)
    assert [n["id"] for n in down["downstream"]] == ["churn-clf/2"]
    tree = kiln_cli(home, "lineage", f"run:{run_id}")
    assert tree.returncode == 0 and "model_version:churn-clf/2" in tree.stdout
    bad = kiln_cli(home, "lineage", "model_version:churn-clf/9")
    assert bad.returncode == 2 and "no version 9" in bad.stderr
