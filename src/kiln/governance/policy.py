"""Promotion policies: which checks a version must pass before an alias may point at it.

A policy is YAML in the project (``policies/<model>.yaml``, or ``kiln-policy.yaml``
holding one policy or a ``models:`` mapping), a Python file ``policies/<model>.py``
defining ``policy``, or built in Python with :meth:`Policy.from_dict`::

    model: churn-clf
    aliases: [production]            # the aliases it guards (default: production)
    datasets:
      holdout: {path: data/holdout.csv, label: churned}
    checks:
      - {type: metric, metric: roc_auc, dataset: holdout, min: 0.8, max_regression: 0.005}
      - {type: fairness, attribute: gender, dataset: holdout,
         demographic_parity_difference: 0.1, equalized_odds_difference: 0.15}
      - {type: explainability, dataset: holdout}
      - {type: latency, p99_ms: 50}
      - {type: signature}
      - {type: approval, role: risk-officer}
      - {type: data_validation}        # training data validated, no errors
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.exceptions import ConfigError
from kiln.governance.gates import DatasetSpec, Gate, build_gate

_TOP_KEYS = {"model", "aliases", "datasets", "checks", "label"}


@dataclass
class Policy:
    """A model's promotion policy: named datasets and the checks (gates) to pass."""

    model: str
    checks: list[Gate]
    datasets: dict[str, DatasetSpec] = field(default_factory=dict)
    aliases: tuple[str, ...] = ("production",)
    base: Path | None = None
    source: str = "python"

    def guards(self, alias: str) -> bool:
        """Whether moving ``alias`` must pass this policy."""
        return alias in self.aliases

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "python", base: Path | None = None
                  ) -> Policy:
        """Build and validate a policy; any problem is one line naming ``source``."""
        try:
            return cls._parse(data, source, base)
        except ConfigError as exc:
            text = str(exc)
            raise ConfigError(text if text.startswith(source) else f"{source}: {text}") from None

    @classmethod
    def _parse(cls, data: Any, source: str, base: Path | None) -> Policy:
        if not isinstance(data, Mapping):
            raise ConfigError(f"a policy must be a mapping, not {type(data).__name__}")
        unknown = sorted(set(data) - _TOP_KEYS)
        if unknown:
            raise ConfigError(f"unknown key {unknown[0]!r}; accepted: "
                              f"{', '.join(sorted(_TOP_KEYS))}")
        model = data.get("model")
        if not isinstance(model, str) or not model:
            raise ConfigError("a policy needs 'model: <registered model name>'")
        aliases = data.get("aliases", ["production"])
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ConfigError(f"aliases = {aliases!r} is not accepted; give a list of names")
        default_label = data.get("label")
        datasets = {name: _dataset(name, spec, default_label)
                    for name, spec in (data.get("datasets") or {}).items()}
        checks = data.get("checks") or []
        if not isinstance(checks, list):
            raise ConfigError("'checks' must be a list of checks")
        gates = [build_gate(c, datasets) for c in checks]
        return cls(model, gates, datasets, tuple(aliases), base, source)


def _dataset(name: Any, spec: Any, default_label: Any) -> DatasetSpec:
    where = f"dataset {name!r}"
    if isinstance(spec, str):
        spec = {"path": spec}
    if not isinstance(spec, Mapping):
        if hasattr(spec, "columns") or callable(spec):
            spec = {"data": spec}
        else:
            raise ConfigError(f"{where} must be a path or a mapping with 'path' and 'label'")
    unknown = sorted(set(spec) - {"path", "data", "label", "sensitive"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; accepted: data, label, path, "
                          "sensitive")
    source = spec.get("data", spec.get("path"))
    if source is None:
        raise ConfigError(f"{where} needs 'path' (CSV/Parquet) or 'data'")
    label = spec.get("label", default_label)
    if not isinstance(label, str):
        raise ConfigError(f"{where} needs 'label: <target column>'")
    sensitive = spec.get("sensitive") or []
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    return DatasetSpec(str(name), source, label, [str(s) for s in sensitive])


def find_policy(model: str, project_dir: Path | None = None) -> Policy | None:
    """The project's policy for ``model``: ``policies/<model>.yaml|.yml|.py``, then
    ``kiln-policy.yaml``; ``None`` when the project has none for it. Relative data
    paths resolve from the project folder."""
    root = project_dir or Path.cwd()
    folder = root / "policies"
    for suffix in (".yaml", ".yml"):
        path = folder / f"{model}{suffix}"
        if path.is_file():
            return _from_yaml_file(path, model, root.resolve())
    path = folder / f"{model}.py"
    if path.is_file():
        return _from_python_file(path)
    path = root / "kiln-policy.yaml"
    if path.is_file():
        return _from_yaml_file(path, model, root.resolve())
    return None


def load_policy_file(path: Path, model: str | None = None) -> Policy:
    """The policy in ``path`` (YAML or Python); relative data paths resolve from its folder."""
    if not path.is_file():
        raise ConfigError(f"policy file {str(path)!r} does not exist")
    if path.suffix == ".py":
        return _from_python_file(path)
    policy = _from_yaml_file(path, model, path.parent.resolve())
    if policy is None:
        raise ConfigError(f"{path} has no policy for model {model!r}")
    return policy


def _from_yaml_file(path: Path, model: str | None, base: Path) -> Policy | None:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: policy is not valid YAML: {str(exc).splitlines()[0]}"
                          ) from None
    if isinstance(data, Mapping) and "models" in data and "model" not in data:
        models = data["models"]
        if not isinstance(models, Mapping):
            raise ConfigError(f"{path}: 'models' must map model names to policies")
        if model is None or model not in models:
            return None
        data = {"model": model, **(models[model] or {})}
    policy = Policy.from_dict(data, source=str(path), base=base)
    if model is not None and policy.model != model:
        if path.name == "kiln-policy.yaml":
            return None
        raise ConfigError(f"{path}: policy is for model {policy.model!r}, not {model!r}")
    return policy


def _from_python_file(path: Path) -> Policy:
    spec = importlib.util.spec_from_file_location(f"kiln_policy_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path}: cannot be imported as a policy")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ConfigError(f"{path}: policy failed to import: {type(exc).__name__}: {exc}"
                          ) from None
    policy = getattr(module, "policy", None)
    if isinstance(policy, Mapping):
        policy = Policy.from_dict(policy, source=str(path), base=path.parent.parent.resolve())
    if not isinstance(policy, Policy):
        raise ConfigError(f"{path}: define `policy` as a kiln Policy or a mapping")
    return policy
