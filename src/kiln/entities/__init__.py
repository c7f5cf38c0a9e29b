"""Plain typed records that every layer passes around. No I/O here.

Times are integer milliseconds since the Unix epoch, as in MLflow.
"""

from __future__ import annotations

from kiln.entities._audit import AuditEvent
from kiln.entities._auth import ApiToken, User
from kiln.entities._data import DatasetVersion
from kiln.entities._features import FeatureDefinition, Materialization
from kiln.entities._lineage import LineageEdge
from kiln.entities._model import AliasEvent, ModelVersion, RegisteredModel, Signature
from kiln.entities._monitoring import (
    Alert,
    AlertRule,
    Monitor,
    MonitorResult,
    ReferenceProfile,
)
from kiln.entities._pipeline import (
    CacheEntry,
    OutputRef,
    StepRunWrite,
    TriggerEvent,
    TriggerFire,
    TriggerRecord,
)
from kiln.entities._run import Experiment, Metric, Run, RunArtifact, RunStatus
from kiln.entities._serving import (
    CanaryPolicy,
    Deployment,
    DeploymentSpec,
    Feedback,
    PredictionLogBatch,
    Route,
)

__all__ = [
    "Alert",
    "AlertRule",
    "AliasEvent",
    "ApiToken",
    "AuditEvent",
    "CacheEntry",
    "CanaryPolicy",
    "DatasetVersion",
    "Deployment",
    "DeploymentSpec",
    "Experiment",
    "FeatureDefinition",
    "Feedback",
    "LineageEdge",
    "Materialization",
    "Metric",
    "ModelVersion",
    "Monitor",
    "MonitorResult",
    "OutputRef",
    "PredictionLogBatch",
    "ReferenceProfile",
    "RegisteredModel",
    "Route",
    "Run",
    "RunArtifact",
    "RunStatus",
    "Signature",
    "StepRunWrite",
    "TriggerEvent",
    "TriggerFire",
    "TriggerRecord",
    "User",
]
