"""The governance stage of ``kiln demo``: promote through gates, block a worse model, audit.

The breast-cancer data has no sensitive attribute, so the stage adds a synthetic
``clinic`` column (A/B, assigned by row) to show how fairness checks read; the
figures it prints say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from kiln.entities import ModelVersion
    from kiln.governance.policy import Policy
    from kiln.governance.promote import PromotionResult
    from kiln.workspace import Workspace

WEAK_C = 0.0001


@dataclass
class GovernanceResult:
    """What the stage did, for the summary and for tests."""

    promoted: PromotionResult | None = None
    blocked: PromotionResult | None = None
    weak_version: int = 0
    card_paths: list[str] = field(default_factory=list)
    audit_message: str = ""


def demo_policy(model: str, holdout: Any) -> Policy:
    """The demo's policy, built in Python (a project would keep it in policies/<model>.yaml)."""
    from kiln.governance.policy import Policy

    return Policy.from_dict({
        "model": model,
        "datasets": {"holdout": {"data": holdout, "label": "target"}},
        "checks": [
            {"type": "metric", "metric": "roc_auc", "dataset": "holdout", "min": 0.95,
             "max_regression": 0.005},
            {"type": "metric", "metric": "accuracy", "dataset": "holdout", "min": 0.9},
            {"type": "fairness", "attribute": "clinic", "dataset": "holdout",
             "demographic_parity_difference": 0.2, "equalized_odds_difference": 0.2},
            {"type": "explainability", "dataset": "holdout"},
            {"type": "latency", "p99_ms": 250},
            {"type": "signature"},
            {"type": "approval", "role": "risk-officer"},
        ],
    }, source="demo policy")


def governance_stage(ws: Workspace, console: Console, mv: ModelVersion, X_train: Any,
                     X_test: Any, y_train: Any, y_test: Any) -> GovernanceResult:
    """Promote ``mv`` to production through the demo policy, then show a deliberately weak
    model (C=0.0001) blocked by the relative AUC gate, verify the audit log, write a card."""
    from kiln.cli.model_gates import print_checks

    result = GovernanceResult()
    holdout = X_test.assign(target=y_test.to_numpy(),
                            clinic=["A" if i % 2 else "B" for i in range(len(X_test))])
    policy = demo_policy(mv.name, holdout)
    from kiln.governance.roles import grant, holds

    if not holds(ws, ws.user, "risk-officer"):  # the local admin grants the named role
        grant(ws, ws.user, "risk-officer")
    ws.approve(mv.name, mv.version, "risk-officer", "demo: reviewed the sweep")
    result.promoted = ws.promote(mv.name, mv.version, "production", policy=policy)
    print_checks(result.promoted, f"{mv.name} v{mv.version} -> @production")
    if not result.promoted.moved:  # pragma: no cover - the best model passes its gates
        raise RuntimeError("the demo's best model did not pass its gates")
    console.print(f"[bold]5. Promotion[/]: all {len(result.promoted.checks)} checks pass; "
                  f"{mv.name}@production -> version {mv.version}")

    weak = _register_weak(ws, mv.name, X_train, y_train)
    result.weak_version = weak.version
    ws.approve(mv.name, weak.version, "risk-officer", "demo: approved, gates decide")
    result.blocked = ws.promote(mv.name, weak.version, "production", policy=policy)
    print_checks(result.blocked, f"{mv.name} v{weak.version} (C={WEAK_C}) -> @production")
    failed = [c.check for c in result.blocked.checks if not c.passed]
    console.print(f"[bold]4b. Gate[/]: version {weak.version} (C={WEAK_C}) [red]blocked[/] by "
                  f"{', '.join(failed)}; production stays at version {mv.version}")

    from kiln.governance.card import write_card

    md, html = write_card(ws, mv.name, mv.version, ws.settings.home / "cards")
    result.card_paths = [str(md), str(html)]
    result.audit_message = ws.verify_audit_log().message()
    console.print(f"[bold]4c. Governance[/]: model card {html}; {result.audit_message}")
    return result


def _register_weak(ws: Workspace, name: str, X_train: Any, y_train: Any) -> ModelVersion:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=WEAK_C, max_iter=5000))
    model.fit(X_train, y_train)
    run = ws.create_run("breast-cancer-candidates", name=f"lr-C{WEAK_C}",
                        tags={"stage": "candidate"})
    ws.log_params(run.run_id, {"C": WEAK_C, "model": "LogisticRegression"})
    mv = ws.log_model(run.run_id, model, name, input_example=X_train.head(5),
                      description=f"deliberately weak candidate: C={WEAK_C}")
    ws.end_run(run.run_id)
    assert mv is not None
    return mv
