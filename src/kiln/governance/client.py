"""Governance on an explicit Workspace: evaluate, check gates, promote, approve, audit."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kiln.core import WorkspaceCore

if TYPE_CHECKING:
    from kiln.entities import AuditEvent, ModelVersion
    from kiln.governance.approvals import Approval
    from kiln.governance.audit import VerifyResult
    from kiln.governance.evaluate import Evaluation
    from kiln.governance.policy import Policy
    from kiln.governance.promote import PromotionResult
    from kiln.workspace import Workspace


class GovernanceClient(WorkspaceCore):
    """Evaluations, promotion gates, approvals and the audit log."""

    def _ws(self) -> Workspace:
        return cast("Workspace", self)

    def evaluate(
        self,
        model: ModelVersion | str,
        data: Any,
        *,
        label: str,
        sensitive: Sequence[str] = (),
        dataset: str = "default",
        importance: bool = True,
    ) -> Evaluation:
        """Compute and store metrics (overall and per slice of each ``sensitive`` column),
        fairness and permutation importance of ``model`` (a version or ``models:/`` URI) on
        ``data`` (a DataFrame, a CSV/Parquet path, or a callable returning a DataFrame)."""
        from kiln.governance.evaluate import evaluate

        return evaluate(self._ws(), model, data, label=label, sensitive=sensitive,
                        dataset=dataset, importance=importance)

    def check_gates(self, name: str, version: int | str, alias: str = "production", *,
                    policy: Policy | None = None, project_dir: Path | None = None
                    ) -> PromotionResult:
        """Run the policy's checks for ``alias`` -> ``version`` without moving anything."""
        from kiln.governance.promote import check_gates

        return check_gates(self._ws(), name, version, alias, policy=policy,
                           project_dir=project_dir)

    def promote(self, name: str, version: int | str, alias: str = "production", *,
                policy: Policy | None = None, force: bool = False,
                project_dir: Path | None = None) -> PromotionResult:
        """Move ``alias`` to ``version`` if the model's policy passes (or ``force``, recorded
        as forced, which needs the admin role in kiln's users table); the project's policy
        is found under ``project_dir`` (default: cwd)."""
        from kiln.governance.promote import promote

        return promote(self._ws(), name, version, alias, policy=policy, force=force,
                       project_dir=project_dir)

    def approve(self, name: str, version: int | str, role: str, comment: str = ""
                ) -> Approval:
        """Record that the current user approves ``version`` acting as ``role``."""
        from kiln.governance.approvals import approve

        return approve(self._ws(), name, version, role, comment)

    def audit_log(self, object_id: str | None = None, *, object_kind: str | None = None,
                  action: str | None = None, limit: int = 1000) -> list[AuditEvent]:
        """Audit events, oldest first; ``object_id`` ``NAME`` also matches ``NAME/VERSION``."""
        return self.store.list_audit_events(object_kind=object_kind, object_id=object_id,
                                            action=action, limit=limit)

    def verify_audit_log(self) -> VerifyResult:
        """Check the whole hash chain; the result names the first edited or missing event."""
        from kiln.governance.audit import verify_chain

        return verify_chain(self.store)
