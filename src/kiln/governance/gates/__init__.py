"""Promotion gates, looked up by their ``type`` in a policy; more arrive through the
``kiln.gates`` entry points or :func:`register_gate`.

>>> sorted(GATES)
['approval', 'data_validation', 'explainability', 'fairness', 'latency', 'metric', 'signature']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln._plugins import available, load_plugin
from kiln.exceptions import ConfigError
from kiln.governance.gates.base import CheckResult, DatasetSpec, Gate, GateContext

GATES: dict[str, str] = {
    "metric": "kiln.governance.gates.builtin:MetricGate",
    "fairness": "kiln.governance.gates.builtin:FairnessGate",
    "explainability": "kiln.governance.gates.builtin:ExplainabilityGate",
    "latency": "kiln.governance.gates.builtin:LatencyGate",
    "signature": "kiln.governance.gates.builtin:SignatureGate",
    "approval": "kiln.governance.gates.builtin:ApprovalGate",
    "data_validation": "kiln.governance.gates.builtin:DataValidationGate",
}
GROUP = "kiln.gates"


def register_gate(type_name: str, target: str) -> None:
    """Make ``type_name`` usable in policies; ``target`` is ``"module:Class"``."""
    GATES[type_name] = target


def build_gate(config: Mapping[str, Any], datasets: Mapping[str, DatasetSpec]) -> Gate:
    """The gate a policy's ``checks`` entry describes (validated now, not at promotion)."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"a policy check must be a mapping with a 'type'; got {config!r}")
    kind = config.get("type")
    if not isinstance(kind, str):
        raise ConfigError(f"policy check {dict(config)!r} has no 'type'; accepted: "
                          f"{', '.join(sorted(available(GROUP, GATES)))}")
    cls = load_plugin(GROUP, GATES, kind, what="policy check type")
    gate: Gate = cls.from_config(config, datasets)
    return gate


__all__ = ["GATES", "CheckResult", "DatasetSpec", "Gate", "GateContext", "build_gate",
           "register_gate"]
