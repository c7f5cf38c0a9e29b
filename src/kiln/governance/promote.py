"""Promotion through gates: evaluate a model's policy, move the alias only if every check passes.

Every decision (moved, blocked or forced) is appended to the audit log with the
check results, so ``kiln audit log --object NAME`` and the model card can show
why a version is where it is. Any error while checking (bad policy, missing
data, unknown version) raises before the alias is touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.exceptions import ConfigError, NotFoundError

if TYPE_CHECKING:
    from kiln.entities import ModelVersion
    from kiln.governance.gates import CheckResult
    from kiln.governance.policy import Policy
    from kiln.workspace import Workspace

PROMOTE = "model.promote"
FORCE_ROLE = "admin"
BLOCKED = "model.promote_blocked"


@dataclass(frozen=True)
class PromotionResult:
    """The checks run for ``model`` version ``version`` -> ``alias`` and what happened."""

    model: str
    version: int
    alias: str
    previous: int | None
    checks: list[CheckResult] = field(default_factory=list)
    moved: bool = False
    forced: bool = False
    policy: str | None = None

    @property
    def passed(self) -> bool:
        """Every check passed (vacuously true without a policy)."""
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "alias": self.alias,
                "previous": self.previous, "passed": self.passed, "moved": self.moved,
                "forced": self.forced, "policy": self.policy,
                "checks": [c.to_dict() for c in self.checks]}


def current_version(ws: Workspace, name: str, alias: str) -> ModelVersion | None:
    """The version ``alias`` points at now, or ``None``."""
    try:
        return ws.get_model_version(name, ws.store.get_alias(name, alias))
    except NotFoundError:
        return None


def check_gates(
    ws: Workspace,
    name: str,
    version: int | str,
    alias: str = "production",
    *,
    policy: Policy | None = None,
    project_dir: Path | None = None,
) -> PromotionResult:
    """Run the policy's checks for moving ``alias`` to ``version``; change nothing but the
    stored evaluations."""
    from kiln.governance.gates import GateContext
    from kiln.governance.policy import find_policy
    from kiln.registry.uri import check_alias

    check_alias(alias)
    mv = ws.get_model_version(name, version)
    if policy is None:
        policy = find_policy(mv.name, project_dir)
    elif policy.model != mv.name:
        raise ConfigError(f"policy {policy.source} is for model {policy.model!r}, not "
                          f"{mv.name!r}")
    baseline = current_version(ws, mv.name, alias)
    previous = baseline.version if baseline else None
    if policy is None or not policy.guards(alias):
        return PromotionResult(mv.name, mv.version, alias, previous,
                               policy=policy.source if policy else None)
    ctx = GateContext(ws, mv, baseline, alias, policy.datasets, policy.base)
    results: list[CheckResult] = []
    for gate in policy.checks:
        results.extend(gate.check(ctx))
    return PromotionResult(mv.name, mv.version, alias, previous, results, policy=policy.source)


def promote(
    ws: Workspace,
    name: str,
    version: int | str,
    alias: str = "production",
    *,
    policy: Policy | None = None,
    force: bool = False,
    project_dir: Path | None = None,
) -> PromotionResult:
    """Check the gates and point ``alias`` at ``version`` if all pass (or ``force``, which
    needs the current user to have the admin role in kiln's users table, see
    :mod:`kiln.governance.roles`); the decision, actor and role are audit-logged either
    way, a forced move as ``forced``."""
    from kiln._time import now_ms
    from kiln.governance.roles import require_admin, role_or_none

    role = require_admin(ws, "--force") if force else role_or_none(ws)
    result = check_gates(ws, name, version, alias, policy=policy, project_dir=project_dir)
    moved = result.passed or force
    forced = force and not result.passed
    if moved and result.previous != result.version:
        ws.set_alias(result.model, alias, result.version)
    result = PromotionResult(result.model, result.version, alias, result.previous,
                             result.checks, moved, forced, result.policy)
    after = {"alias": alias, "version": result.version, "passed": result.passed,
             "forced": forced, "role": role, "policy": result.policy,
             "checks": [c.to_dict() for c in result.checks]}
    ws.store.append_audit_event(ws.user, PROMOTE if moved else BLOCKED, "model", result.model,
                                {"alias": alias, "version": result.previous}, after, now_ms())
    return result


def gate_history(ws: Workspace, name: str, version: int | None = None) -> list[dict[str, Any]]:
    """Recorded promotion decisions for the model (or one version), oldest first."""
    out = []
    for event in ws.store.list_audit_events(object_kind="model", object_id=name):
        if event.object_id != name or event.action not in (PROMOTE, BLOCKED):
            continue
        after = event.after if isinstance(event.after, dict) else {}
        if version is not None and after.get("version") != version:
            continue
        out.append({**after, "actor": event.actor, "timestamp": event.timestamp,
                    "moved": event.action == PROMOTE, "seq": event.seq})
    return out
