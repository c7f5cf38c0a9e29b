"""Plain typed records that every layer passes around. No I/O here.

Times are integer milliseconds since the Unix epoch, as in MLflow.
"""

from __future__ import annotations

from kiln.entities._auth import ApiToken, User
from kiln.entities._lineage import LineageEdge
from kiln.entities._model import AliasEvent, ModelVersion, RegisteredModel, Signature
from kiln.entities._run import Experiment, Metric, Run, RunArtifact, RunStatus

__all__ = [
    "AliasEvent",
    "ApiToken",
    "Experiment",
    "LineageEdge",
    "Metric",
    "ModelVersion",
    "RegisteredModel",
    "Run",
    "RunArtifact",
    "RunStatus",
    "Signature",
    "User",
]
