"""``kiln ci``: run every model's policy against its latest version and write a summary.

The same gates as ``kiln models promote``; in CI the Markdown summary goes to
``$GITHUB_STEP_SUMMARY`` when set (GitHub Actions), else to stdout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kiln.exceptions import NotFoundError

if TYPE_CHECKING:
    from kiln.governance.policy import Policy
    from kiln.governance.promote import PromotionResult
    from kiln.workspace import Workspace


@dataclass(frozen=True)
class ModelCheck:
    """One model's outcome in CI: the gate result, or why there was nothing to check."""

    model: str
    result: PromotionResult | None
    problem: str = ""

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed


def project_policies(project_dir: Path) -> list[Policy]:
    """Every policy the project defines (``policies/*`` and ``kiln-policy.yaml``)."""
    import yaml

    from kiln.governance.policy import find_policy

    names: list[str] = []
    folder = project_dir / "policies"
    if folder.is_dir():
        names += sorted(p.stem for p in folder.iterdir()
                        if p.suffix in (".yaml", ".yml", ".py") and not p.name.startswith("_"))
    shared = project_dir / "kiln-policy.yaml"
    if shared.is_file():
        data = yaml.safe_load(shared.read_text()) or {}
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            names += [str(n) for n in data["models"]]
        elif isinstance(data, dict) and isinstance(data.get("model"), str):
            names.append(data["model"])
    policies = []
    for name in dict.fromkeys(names):
        policy = find_policy(name, project_dir)
        if policy is not None:
            policies.append(policy)
    return policies


def check_project(ws: Workspace, project_dir: Path, *, promote: bool = False
                  ) -> list[ModelCheck]:
    """Check (or, with ``promote``, promote) the latest version of every model with a policy."""
    from kiln.governance.promote import check_gates
    from kiln.governance.promote import promote as do_promote

    out = []
    for policy in project_policies(project_dir):
        try:
            latest = ws.get_model(policy.model).latest_version
        except NotFoundError:
            out.append(ModelCheck(policy.model, None, "no version is registered; run the "
                                                       "training first"))
            continue
        alias = policy.aliases[0]
        if promote:
            result = do_promote(ws, policy.model, latest, alias, policy=policy)
        else:
            result = check_gates(ws, policy.model, latest, alias, policy=policy)
        out.append(ModelCheck(policy.model, result))
    return out


def summary_markdown(checks: list[ModelCheck], *, promote: bool = False) -> str:
    """The CI summary: per model, a verdict line and the table of checks."""
    title = "kiln ci promote" if promote else "kiln ci check"
    if not checks:
        return f"## {title}\n\nNo model policy found (policies/<model>.yaml or kiln-policy.yaml).\n"
    lines = [f"## {title}", ""]
    for c in checks:
        if c.result is None:
            lines += [f"### {c.model}: :x: {c.problem}", ""]
            continue
        r = c.result
        verdict = ":white_check_mark: all checks pass" if r.passed else ":x: gate failed"
        where = f"v{r.version} vs @{r.alias} (now v{r.previous})" if r.previous else \
            f"v{r.version} -> @{r.alias} (unset)"
        moved = ""
        if promote:
            moved = f"; @{r.alias} -> v{r.version}" if r.moved else f"; @{r.alias} not moved"
        lines += [f"### {c.model} {where}: {verdict}{moved}", "",
                  "| check | figure | threshold | verdict |", "|---|---|---|---|"]
        lines += [f"| {x.check} | {x.figure} | {x.threshold} | "
                  f"{'pass' if x.passed else '**FAIL**'} |" for x in r.checks]
        lines.append("")
    return "\n".join(lines)


def write_summary(text: str) -> str | None:
    """Append to ``$GITHUB_STEP_SUMMARY`` when set and return its path; else ``None``."""
    import os

    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as f:
        f.write(text + "\n")
    return target
