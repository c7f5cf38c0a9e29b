"""``kiln monitor`` and ``kiln alert`` through click's CliRunner, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from monitor_data import churn_frame, numeric

from kiln.cli.main import cli
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.monitoring.demo import send_traffic
from kiln.workspace import Workspace


def kiln(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True,
                                env={"COLUMNS": "200"})
    return result


def ok(*args: str) -> str:
    result = kiln(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_monitor_and_alert_commands(deployed: Workspace, tmp_path: Path) -> None:
    ws = deployed
    assert ok("monitor", "create", "churn-drift", "--deployment", "churn", "--every", "1h",
              "--window", "24h").strip() == (
        "monitor churn-drift on deployment churn: every 1h, window 1d; `kiln scheduler` "
        "runs it on schedule")
    out = ok("alert", "add", "churn-drift", "drift.share_of_drifted_features > 0.3",
             "--name", "drift", "--sink", "log", "--cooldown", "30m")
    assert out.strip() == ("rule drift on churn-drift: drift.share_of_drifted_features > 0.3 "
                           "-> log (cool-down 30m)")
    bad = kiln("alert", "add", "churn-drift", "drift.share >> 0.3")
    assert isinstance(bad.exception, InvalidArgumentError)
    assert "does not parse at '>'" in str(bad.exception)

    empty = ok("monitor", "run", "churn-drift")
    assert "window 1 is EMPTY" in empty and "not 'no drift'" in empty

    normal = churn_frame(150, seed=1)
    send_traffic(ws, "churn", numeric(normal), normal["churned"], 150)
    shifted = churn_frame(150, seed=2, shift=1.5)
    send_traffic(ws, "churn", numeric(shifted), shifted["churned"], 150)
    ran = json.loads(ok("monitor", "run", "churn-drift", "--json"))
    [window] = ran
    assert (window["seq"], window["status"], window["rows"]) == (2, "ok", 300)
    assert window["data"]["labelled"] == 300
    assert window["data"]["drift"]["drifted"] == ["age", "balance"]
    assert [a["rule"] for a in window["alerts"]] == ["drift"]

    shown = json.loads(ok("monitor", "show", "churn-drift", "--json"))
    assert [w["status"] for w in shown["windows"]] == ["empty", "ok"]
    assert shown["alerts"][0]["value"] == 1.0
    table = ok("monitor", "show", "churn-drift")
    assert "drift share" in table and "age, balance" in table and "no traffic" in table
    report = tmp_path / "report.html"
    assert "report written to" in ok("monitor", "report", "churn-drift", "--html", str(report))
    page = report.read_text()
    assert "Monitor churn-drift on deployment churn" in page and "balance" in page
    assert report.stat().st_size < 3_000_000
    listed = json.loads(ok("monitor", "list", "--json"))
    assert [(m["name"], m["windows"], m["rules"]) for m in listed] == [("churn-drift", 2, 1)]
    alerts = json.loads(ok("alert", "list", "churn-drift", "--json"))
    assert [(a["rule"], a["window_seq"], a["sinks"]) for a in alerts] == [
        ("drift", 2, {"log": "logged"})]
    assert "drift.share_of_drifted_features > 0.3" in ok("alert", "rules")
    assert "model_version" not in ok("alert", "chain", str(alerts[0]["alert_id"]))

    assert "reference profile of churn-clf v1: 400 rows of churn@1" in ok(
        "monitor", "profile", "churn-clf@1")
    missing = kiln("monitor", "run", "nope")
    assert isinstance(missing.exception, NotFoundError)
    assert "monitor 'nope' does not exist; monitors: 'churn-drift'" in str(missing.exception)
    refused = kiln("monitor", "feedback", "churn", "nope=1")
    assert "request id 'nope': no such request" in str(refused.exception)
    rid = ws.read_prediction_log("churn")["request_id"].iloc[0]
    assert "stored 1 label(s)" in ok("monitor", "feedback", "churn", f"{rid}=0")
    assert "not promoted: no A/B result yet" in ok("monitor", "promote", "churn-drift")

    ok("alert", "remove", "churn-drift", "drift")
    assert "no alert rules" in ok("alert", "rules", "churn-drift")
    ok("monitor", "delete", "churn-drift")
    assert "no monitors" in ok("monitor", "list")


@pytest.mark.slow
def test_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "KILN_HOME": str(tmp_path / ".kiln")}
    out = subprocess.run([sys.executable, "-m", "kiln.cli.main", "monitor", "create", "m",
                          "--deployment", "nope"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip() == ("error: deployment 'nope' does not exist; deployments: "
                                  "none yet")
