"""Evaluation, gates and promotion through the public API."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import kiln
from kiln.exceptions import (
    ConfigError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from kiln.governance.policy import Policy
from kiln.governance.roles import grant, holds
from kiln.workspace import Workspace

from .helpers import frame, register


def _policy(**extra: object) -> Policy:
    checks: list[dict[str, object]] = [
        {"type": "metric", "metric": "roc_auc", "dataset": "holdout", "min": 0.8,
         "max_regression": 0.005},
        {"type": "fairness", "attribute": "gender", "dataset": "holdout",
         "demographic_parity_difference": 0.3, "equalized_odds_difference": 0.3},
        {"type": "explainability", "dataset": "holdout"},
        {"type": "latency", "p99_ms": 5000},
        {"type": "signature"},
    ]
    return Policy.from_dict({"model": "churn-clf",
                             "datasets": {"holdout": {"data": frame(seed=1), "label": "label"}},
                             "checks": checks, **extra})


def test_evaluate_stores_metrics_fairness_and_importance(ws: Workspace) -> None:
    mv = register(ws)
    ev = kiln.evaluate(f"models:/churn-clf/{mv.version}", frame(seed=1), label="label",
                       sensitive=["gender"], dataset="holdout")
    assert ev.metrics["roc_auc"] > 0.85
    assert set(ev.slices["gender"]) == {"F", "M"}
    assert 0 <= ev.fairness["gender"]["demographic_parity_difference"] <= 1
    assert next(iter(ev.importance)) == "x1"
    from kiln.governance.evaluate import stored_evaluations

    stored = stored_evaluations(ws, "churn-clf", mv.version)
    assert stored[0].run_id == ev.run_id and stored[0].importance == ev.importance
    assert [e.relation for e in ws.store.edges_from("model_version", "churn-clf/1")] == [
        "evaluated_by"]


def test_evaluate_accepts_paths_and_callables(ws: Workspace, tmp_path: Path) -> None:
    mv = register(ws)
    frame(seed=1).to_csv(tmp_path / "holdout.csv", index=False)
    by_path = ws.evaluate(mv, str(tmp_path / "holdout.csv"), label="label", importance=False)
    by_call = ws.evaluate(mv, lambda: frame(seed=1), label="label", importance=False)
    assert by_path.metrics["roc_auc"] == pytest.approx(by_call.metrics["roc_auc"])
    with pytest.raises(InvalidArgumentError, match="sensitive attribute 'race'"):
        ws.evaluate(mv, frame(), label="label", sensitive=["race"])
    with pytest.raises(InvalidArgumentError, match="label column 'y'"):
        ws.evaluate(mv, frame(), label="y")
    with pytest.raises(InvalidArgumentError, match=r"suffix '\.txt'"):
        (tmp_path / "holdout.txt").write_text("x")
        ws.evaluate(mv, str(tmp_path / "holdout.txt"), label="label")
    with pytest.raises(NotFoundError, match="does not exist"):
        ws.evaluate(mv, str(tmp_path / "missing.csv"), label="label")


def test_promotion_passes_then_blocks_a_worse_model(ws: Workspace) -> None:
    good = register(ws, C=1.0)
    first = ws.promote("churn-clf", good.version, policy=_policy())
    assert first.moved and first.passed and not first.forced, first.checks
    assert ws.store.get_alias("churn-clf", "production") == good.version
    weak = register(ws, weak=True)
    blocked = ws.promote("churn-clf", weak.version, policy=_policy())
    assert not blocked.moved
    failing = [c.check for c in blocked.checks if not c.passed]
    assert failing == ["roc_auc on holdout", "roc_auc on holdout vs @production"]
    assert ws.store.get_alias("churn-clf", "production") == good.version
    # embedded defaults (no users yet): the local user is admin and may force
    forced = ws.promote("churn-clf", weak.version, policy=_policy(), force=True)
    assert forced.moved and forced.forced
    actions = [e.action for e in ws.audit_log("churn-clf", object_kind="model")]
    assert actions == ["alias.set", "model.promote", "model.promote_blocked", "alias.set",
                       "model.promote"]
    last = ws.audit_log("churn-clf", action="model.promote")[-1]
    assert (last.after["forced"], last.after["role"]) == (True, "admin")
    assert ws.verify_audit_log().ok
    ws.store.create_user(ws.user, "editor", 1)  # the users table is now authoritative
    with pytest.raises(PermissionDeniedError, match="--force needs the admin role"):
        ws.promote("churn-clf", good.version, policy=_policy(), force=True)
    assert ws.store.get_alias("churn-clf", "production") == weak.version


def test_approvals_check_the_approvers_role(ws: Workspace) -> None:
    mv = register(ws)
    with pytest.raises(PermissionDeniedError, match="does not hold role 'risk-officer'"):
        ws.approve("churn-clf", mv.version, "risk-officer")
    ws.approve("churn-clf", mv.version, "admin")  # the local default role is held
    ws.store.create_user("alice", "admin", 1)
    ws.store.create_user(ws.user, "editor", 1)
    with pytest.raises(PermissionDeniedError, match="granting a role needs the admin role"):
        grant(ws, ws.user, "risk-officer")
    with pytest.raises(PermissionDeniedError, match="does not hold role 'admin'"):
        ws.approve("churn-clf", mv.version, "admin")
    as_alice = Workspace(settings=replace(ws.settings, user="alice"))
    grant(as_alice, ws.user, "risk-officer")
    approval = ws.approve("churn-clf", mv.version, "risk-officer", "reviewed")
    assert approval.actor == ws.user and holds(ws, ws.user, "risk-officer")
    grant(as_alice, ws.user, "risk-officer", revoke=True)
    assert not holds(ws, ws.user, "risk-officer")
    grants = ws.audit_log(ws.user, object_kind="user")
    assert [(e.actor, e.action) for e in grants] == [("alice", "role.grant"),
                                                     ("alice", "role.revoke")]


def test_signature_and_approval_gates(ws: Workspace) -> None:
    first = register(ws)
    ws.set_alias("churn-clf", "production", first.version)
    narrower = register(ws, columns=("x1", "x2"))
    policy = Policy.from_dict({"model": "churn-clf", "checks": [
        {"type": "signature"}, {"type": "approval", "role": "risk-officer"}]})
    result = ws.check_gates("churn-clf", narrower.version, policy=policy)
    assert [(c.check, c.figure, c.passed) for c in result.checks] == [
        ("signature vs @production", "removed x3", False),
        ("approval by risk-officer", "none", False),
    ]
    grant(ws, ws.user, "risk-officer")  # the local admin grants the named role
    ws.approve("churn-clf", narrower.version, "risk-officer", "reviewed")
    allowed = Policy.from_dict({"model": "churn-clf", "checks": [
        {"type": "signature", "allow_breaking": True},
        {"type": "approval", "role": "risk-officer"}]})
    assert ws.promote("churn-clf", narrower.version, policy=allowed).moved


@pytest.mark.parametrize(("policy", "message"), [
    ({"model": "churn-clf", "checks": [{"type": "metric", "metric": "rocauc",
                                        "dataset": "d", "min": 1}]}, "unknown metric 'rocauc'"),
    ({"model": "churn-clf", "checks": [{"type": "metric", "metric": "roc_auc",
                                        "dataset": "nope", "min": 1}]}, "unknown dataset 'nope'"),
    ({"model": "churn-clf", "checks": [{"type": "vibes"}]}, "policy check type 'vibes'"),
    ({"model": "churn-clf", "checks": [{"type": "latency", "p99_ms": "fast"}]}, "not a"),
    ({"model": "churn-clf", "checks": [{"type": "metric", "metric": "roc_auc",
                                        "dataset": "d", "minimum": 1}]}, "unknown key 'minimum'"),
    (["not", "a", "mapping"], "must be a mapping"),
])
def test_bad_policies_are_one_line(policy: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        Policy.from_dict(policy)
    assert "\n" not in str(info.value)


def test_errors_never_move_the_alias(ws: Workspace) -> None:
    good = register(ws)
    ws.set_alias("churn-clf", "production", good.version)
    other = register(ws)
    missing_attr = Policy.from_dict({
        "model": "churn-clf",
        "datasets": {"holdout": {"data": frame().drop(columns=["gender"]), "label": "label"}},
        "checks": [{"type": "fairness", "attribute": "gender", "dataset": "holdout",
                    "demographic_parity_difference": 0.5}]})
    with pytest.raises(InvalidArgumentError, match="sensitive attribute 'gender'"):
        ws.promote("churn-clf", other.version, policy=missing_attr)
    with pytest.raises(NotFoundError, match="no version 9"):
        ws.promote("churn-clf", 9, policy=_policy())
    assert ws.store.get_alias("churn-clf", "production") == good.version
