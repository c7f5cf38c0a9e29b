"""The governance commands as a user runs them: promote, approve, card, audit, ci, init, privacy."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiln.workspace import Workspace

from .helpers import frame, register

CLI = [sys.executable, "-m", "kiln.cli.main"]

POLICY = """\
model: churn-clf
datasets:
  holdout: {path: holdout.csv, label: label}
checks:
  - {type: metric, metric: roc_auc, dataset: holdout, min: 0.8, max_regression: 0.005}
  - {type: fairness, attribute: gender, dataset: holdout,
     demographic_parity_difference: 0.3, equalized_odds_difference: 0.3}
  - {type: explainability, dataset: holdout}
  - {type: signature}
"""


def _kiln(project: Path, *args: str, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "KILN_HOME": str(project / ".kiln"), "COLUMNS": "200",
                **(env or {})}
    full_env.pop("GITHUB_STEP_SUMMARY", None) if env is None else None
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=full_env,
                          cwd=project, timeout=300)


def _whoami(project: Path) -> str:
    out = _kiln(project, "roles", "whoami", "--json")
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout)[0]["user"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with two versions (good, weak) of churn-clf, a holdout CSV and a policy."""
    frame(seed=1).to_csv(tmp_path / "holdout.csv", index=False)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "churn-clf.yaml").write_text(POLICY)
    with Workspace(home=tmp_path / ".kiln") as ws:
        register(ws)
        register(ws, weak=True)
    return tmp_path


def test_promote_moves_then_blocks(project: Path) -> None:
    out = _kiln(project, "models", "promote", "churn-clf", "1", "--to", "production")
    assert out.returncode == 0, out.stderr
    assert "churn-clf@production -> version 1" in out.stdout
    assert "demographic_parity_difference (gender)" in out.stdout
    out = _kiln(project, "models", "promote", "churn-clf", "2", "--to", "production")
    assert out.returncode == 1
    assert "FAIL" in out.stdout and "blocked: churn-clf@production stays at version 1" in out.stderr
    shown = json.loads(_kiln(project, "models", "show", "churn-clf", "--json").stdout)
    assert shown["aliases"] == {"production": 1}
    # users table configured: carol is an editor, dave (not in it) a viewer; neither may force
    assert _kiln(project, "users", "create", "carol", "--role", "editor").returncode == 0
    for who in ("carol", "dave"):
        out = _kiln(project, "models", "promote", "churn-clf", "2", "--force",
                    env={"KILN_USER": who})
        assert out.returncode == 2 and "--force needs the admin role" in out.stderr
        assert out.stderr.strip().count("\n") == 0
    assert _kiln(project, "users", "create", "root-admin", "--role", "admin").returncode == 0
    out = _kiln(project, "models", "promote", "churn-clf", "2", "--force",
                env={"KILN_USER": "root-admin"})
    assert out.returncode == 0 and "FORCED" in out.stdout
    log = json.loads(_kiln(project, "audit", "log", "--object", "churn-clf", "--json").stdout)
    promotions = [e for e in log if e["action"].startswith("model.promote")]
    assert [(e["action"], e["after"]["forced"]) for e in promotions] == [
        ("model.promote", False), ("model.promote_blocked", False), ("model.promote", True)]
    assert (promotions[-1]["actor"], promotions[-1]["after"]["role"]) == ("root-admin", "admin")
    table = _kiln(project, "audit", "log", "--object", "churn-clf")
    assert "model.promote_blocked" in table.stdout


@pytest.mark.parametrize(("policy", "args", "message"), [
    (POLICY.replace("roc_auc", "rocauc"), ("1",), "unknown metric 'rocauc'"),
    (POLICY.replace("dataset: holdout, min", "dataset: test, min"), ("1",),
     "unknown dataset 'test'"),
    ("model: churn-clf\nchecks: [\n", ("1",), "policy is not valid YAML"),
    (POLICY.replace("attribute: gender", "attribute: race"), ("1",),
     "sensitive attribute 'race' is not a column"),
    (POLICY, ("7",), "model 'churn-clf' has no version 7"),
])
def test_bad_input_is_one_line_and_never_moves_the_alias(project: Path, policy: str,
                                                         args: tuple[str, ...],
                                                         message: str) -> None:
    (project / "policies" / "churn-clf.yaml").write_text(policy)
    out = _kiln(project, "models", "promote", "churn-clf", *args)
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and message in out.stderr
    assert out.stderr.strip().count("\n") == 0, out.stderr
    shown = json.loads(_kiln(project, "models", "show", "churn-clf", "--json").stdout)
    assert shown["aliases"] == {}


def test_approval_and_card(project: Path) -> None:
    (project / "policies" / "churn-clf.yaml").write_text(
        POLICY + "  - {type: approval, role: risk-officer}\n")
    assert _kiln(project, "models", "promote", "churn-clf", "1").returncode == 1
    out = _kiln(project, "models", "approve", "churn-clf", "1", "--as", "risk-officer")
    assert out.returncode == 2 and "does not hold role 'risk-officer'" in out.stderr
    out = _kiln(project, "roles", "grant", os.environ.get("KILN_USER") or _whoami(project),
                "risk-officer")
    assert out.returncode == 0, out.stderr
    out = _kiln(project, "models", "approve", "churn-clf", "1", "--as", "risk-officer")
    assert "approved churn-clf v1 as risk-officer" in out.stdout
    assert _kiln(project, "models", "promote", "churn-clf", "1").returncode == 0
    out = _kiln(project, "models", "card", "churn-clf", "1", "-o", "cards")
    assert out.returncode == 0, out.stderr
    md = (project / "cards" / "churn-clf-v1-card.md").read_text()
    page = (project / "cards" / "churn-clf-v1-card.html").read_text()
    for text in ("## Intended use", "## Limitations", "**Not written.**", "## Fairness",
                 "| holdout | gender | F |", "approval by risk-officer", "Approved as "
                 "risk-officer", "## Deployment (alias) history", "## Lineage", "roc_auc"):
        assert text in md, text
    assert "<svg" in page and "<rect" in page and "x1" in page


def test_audit_verify_catches_a_hand_edit(project: Path) -> None:
    assert _kiln(project, "models", "promote", "churn-clf", "1").returncode == 0
    out = _kiln(project, "audit", "verify")
    assert out.returncode == 0 and "hash chain verified" in out.stdout
    with sqlite3.connect(project / ".kiln" / "kiln.db") as db:
        db.execute("UPDATE audit_events SET after = replace(after, '\"version\":1', "
                   "'\"version\":2') WHERE action = 'alias.set'")
        seq = db.execute("SELECT seq FROM audit_events WHERE action = 'alias.set'").fetchone()[0]
    out = _kiln(project, "audit", "verify")
    assert out.returncode == 1
    assert f"event #{seq} (alias.set model churn-clf by" in out.stderr
    assert "was edited" in out.stderr


def test_init_then_train_then_ci_check_is_green(tmp_path: Path) -> None:
    out = _kiln(tmp_path, "init", "--model", "demo-clf")
    assert out.returncode == 0, out.stderr
    for name in ("kiln.yaml", "train.py", "features.py", "policies/demo-clf.yaml",
                 ".github/workflows/kiln.yml", ".gitlab-ci.yml"):
        assert (tmp_path / name).is_file(), name
    assert "kiln ci check" in (tmp_path / ".github/workflows/kiln.yml").read_text()
    assert "kiln ci check" in (tmp_path / ".gitlab-ci.yml").read_text()
    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln")}
    subprocess.run([sys.executable, "train.py"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=300)
    out = _kiln(tmp_path, "features", "apply", "features.py")
    assert out.returncode == 0 and "tumour_size" in out.stdout, out.stdout + out.stderr
    assert _kiln(tmp_path, "features", "materialize").returncode == 0
    summary = tmp_path / "summary.md"
    out = _kiln(tmp_path, "ci", "check", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert out.returncode == 0, out.stdout + out.stderr
    text = summary.read_text()
    assert "demo-clf v1" in text and "all checks pass" in text and "| roc_auc on holdout |" in text
    assert "data validation of demo-clf-train@1" in text
    out = _kiln(tmp_path, "ci", "promote")
    assert out.returncode == 0 and "@production -> v1" in out.stdout
    again = _kiln(tmp_path, "init")
    assert again.returncode == 2 and "exists; use --force" in again.stderr


def test_ci_check_fails_on_a_failing_gate(project: Path) -> None:
    assert _kiln(project, "models", "promote", "churn-clf", "1").returncode == 0
    out = _kiln(project, "ci", "check")  # latest is the weak version 2
    assert out.returncode == 1
    assert ":x: gate failed" in out.stdout and "**FAIL**" in out.stdout


def test_privacy_forget_reports_and_is_audited(project: Path) -> None:
    with Workspace(home=project / ".kiln") as ws:
        run = ws.create_run("scoring", tags={"customer_id": "123"})
        ws.log_text(run.run_id, "customer_id,score\n123,0.4\n456,0.9\n123,0.1\n", "scores.csv")
        ws.end_run(run.run_id)
    out = _kiln(project, "privacy", "forget", "--key", "customer_id=123")
    assert out.returncode == 0, out.stderr
    assert f"run {run.run_id} tag customer_id" in out.stdout
    assert f"run {run.run_id} artifact scores.csv: 2 row(s)" in out.stdout
    log = json.loads(_kiln(project, "audit", "log", "--action", "privacy.forget",
                           "--json").stdout)
    assert len(log) == 1 and "123" not in log[0]["object_id"]
    bad = _kiln(project, "privacy", "forget", "--key", "customer_id")
    assert bad.returncode == 2 and "COLUMN=VALUE" in bad.stderr
