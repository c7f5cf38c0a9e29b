"""The metadata store interface. Every backend (SQL, REST) implements ``MetadataStore``.

It is split by concern so each part stays small; ``kiln.testing.MetadataStoreSuite``
checks any implementation against the behaviour described here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kiln.entities import (
    AliasEvent,
    AuditEvent,
    Experiment,
    LineageEdge,
    Metric,
    ModelVersion,
    RegisteredModel,
    Run,
    RunArtifact,
    RunStatus,
    Signature,
)
from kiln.metadata.filters import Clause, OrderKey


@dataclass(frozen=True)
class RunQuery:
    """What ``search_runs`` asks for: experiments (``None`` = all), clauses, ordering, page."""

    experiment_ids: Sequence[int] | None = None
    clauses: Sequence[Clause] = ()
    order_by: Sequence[OrderKey] = ()
    max_results: int = 1000
    offset: int = 0
    parent_run_id: str | None = field(default=None)


@runtime_checkable
class TrackingStore(Protocol):
    """Experiments, runs, params, tags, metrics and logged artifacts."""

    def get_or_create_experiment(self, name: str) -> Experiment: ...
    def get_experiment(self, name: str) -> Experiment: ...
    def list_experiments(self) -> list[Experiment]: ...
    def create_run(
        self,
        experiment_id: int,
        name: str,
        user: str,
        start_time: int,
        tags: Mapping[str, str],
        parent_run_id: str | None = None,
    ) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def end_run(
        self, run_id: str, status: RunStatus, end_time: int, error: str | None = None
    ) -> None: ...
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None: ...
    def write_metrics(self, points: Sequence[tuple[str, Metric]]) -> None: ...
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]: ...
    def search_runs(self, query: RunQuery) -> list[Run]: ...
    def log_artifact(self, artifact: RunArtifact) -> None: ...
    def list_artifacts(self, run_id: str) -> list[RunArtifact]: ...


@runtime_checkable
class RegistryStore(Protocol):
    """Registered models, their immutable versions, and aliases with history."""

    def create_model_version(
        self,
        name: str,
        *,
        run_id: str | None,
        flavor: str,
        artifact: str,
        signature: Signature | None,
        user: str,
        created_at: int,
        description: str = "",
    ) -> ModelVersion: ...
    def get_model_version(self, name: str, version: int) -> ModelVersion: ...
    def list_model_versions(self, name: str) -> list[ModelVersion]: ...
    def get_registered_model(self, name: str) -> RegisteredModel: ...
    def list_registered_models(self) -> list[RegisteredModel]: ...
    def set_alias(self, name: str, alias: str, version: int, user: str, timestamp: int) -> None: ...
    def delete_alias(self, name: str, alias: str, user: str, timestamp: int) -> None: ...
    def get_alias(self, name: str, alias: str) -> int: ...
    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]: ...


@runtime_checkable
class LineageStore(Protocol):
    """Edges between any two objects; walked both ways by ``kiln lineage``."""

    def add_edges(self, edges: Sequence[LineageEdge]) -> None: ...
    def edges_from(self, kind: str, object_id: str) -> list[LineageEdge]: ...
    def edges_to(self, kind: str, object_id: str) -> list[LineageEdge]: ...


@runtime_checkable
class AuditStore(Protocol):
    """The hash-chained audit log. The store appends an event itself for each change of
    state it makes (run created/ended, version registered, alias set/deleted);
    ``append_audit_event`` is for changes made elsewhere (promotions, approvals...)."""

    def append_audit_event(
        self,
        actor: str,
        action: str,
        object_kind: str,
        object_id: str,
        before: Any,
        after: Any,
        timestamp: int,
    ) -> AuditEvent: ...
    def list_audit_events(
        self,
        *,
        object_kind: str | None = None,
        object_id: str | None = None,
        action: str | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[AuditEvent]: ...
    def audit_head(self) -> tuple[int, str]: ...


@runtime_checkable
class MetadataStore(TrackingStore, RegistryStore, LineageStore, AuditStore, Protocol):
    """Everything kiln keeps about its objects. ``close()`` releases connections."""

    url: str

    def close(self) -> None: ...
