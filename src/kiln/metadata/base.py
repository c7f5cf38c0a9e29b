"""The metadata store interface. Every backend (SQL, REST) implements ``MetadataStore``.

It is split by concern so each part stays small; ``kiln.testing.MetadataStoreSuite``
checks any implementation against the behaviour described here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kiln.entities import (
    Alert,
    AlertRule,
    AliasEvent,
    ApiToken,
    AuditEvent,
    CacheEntry,
    DatasetVersion,
    Deployment,
    DeploymentSpec,
    Experiment,
    FeatureDefinition,
    Feedback,
    LineageEdge,
    Materialization,
    Metric,
    ModelVersion,
    Monitor,
    MonitorResult,
    PredictionLogBatch,
    ReferenceProfile,
    RegisteredModel,
    Run,
    RunArtifact,
    RunStatus,
    Signature,
    StepRunWrite,
    TriggerEvent,
    TriggerRecord,
    User,
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
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        error: str | None = None,
        metrics: Sequence[tuple[str, Metric]] = (),
    ) -> None:
        """End the run, writing ``metrics`` (still-buffered points) in the same transaction."""
        ...
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


@dataclass(frozen=True)
class DefinitionSpec:
    """A feature-store object to register: ``kind`` (``entity``/``feature_view``), name, spec."""

    kind: str
    name: str
    spec: Mapping[str, object]


@runtime_checkable
class DataStore(Protocol):
    """Named datasets and their immutable, numbered versions."""

    def create_dataset_version(
        self,
        name: str,
        *,
        tree: str,
        kind: str,
        size: int,
        file_count: int,
        rows: int | None,
        schema: Mapping[str, Any] | None,
        user: str,
        created_at: int,
        git_commit: str | None,
        source: str,
        description: str = "",
    ) -> DatasetVersion: ...
    def get_dataset_version(self, name: str, version: int) -> DatasetVersion: ...
    def latest_dataset_version(self, name: str) -> DatasetVersion: ...
    def list_dataset_versions(self, name: str) -> list[DatasetVersion]: ...
    def list_datasets(self) -> list[str]: ...
    def set_dataset_schema(self, name: str, version: int, schema: Mapping[str, Any]) -> None: ...


@runtime_checkable
class FeatureRegistryStore(Protocol):
    """Versioned feature-store definitions and how far each view is materialized."""

    def apply_feature_definitions(
        self, definitions: Sequence[DefinitionSpec], user: str, created_at: int
    ) -> list[FeatureDefinition]:
        """Register all ``definitions`` in one transaction; an unchanged spec (same digest
        as the latest version) keeps its version, a changed one gets the next number.
        Returns the resulting latest version of each, in the order given."""
        ...

    def get_feature_definition(
        self, kind: str, name: str, version: int | None = None
    ) -> FeatureDefinition:
        """One version (default: the latest); ``NotFoundError`` names the known ones."""
        ...

    def list_feature_definitions(self, kind: str | None = None) -> list[FeatureDefinition]:
        """The latest version of every object (of ``kind``), ordered by kind and name."""
        ...

    def list_feature_definition_versions(self, kind: str, name: str) -> list[FeatureDefinition]:
        """Every version of one object, oldest first."""
        ...

    def set_materialization(self, state: Materialization) -> None:
        """Record (replace) how far ``state.view`` is materialized into ``state.target``."""
        ...

    def get_materialization(self, view: str, target: str) -> Materialization | None:
        """What :meth:`set_materialization` last recorded, or ``None``."""
        ...

    def list_materializations(self, view: str | None = None) -> list[Materialization]:
        """Every recorded materialization (of ``view``), by view and online store."""
        ...


@runtime_checkable
class PipelineStore(Protocol):
    """Step cache, step runs written in batches (one transaction), triggers and leases."""

    def get_cached(self, cache_key: str) -> CacheEntry | None: ...
    def get_cached_many(self, cache_keys: Sequence[str]) -> dict[str, CacheEntry]: ...
    def write_step_runs(self, experiment_id: int, parent_run_id: str, user: str,
                        writes: Sequence[StepRunWrite]) -> None: ...
    def save_trigger(self, trigger: TriggerRecord) -> TriggerRecord: ...
    def list_triggers(self) -> list[TriggerRecord]: ...
    def set_trigger_state(self, trigger_id: str, state: Mapping[str, object],
                          updated_at: int) -> None: ...
    def claim_fire(self, trigger_id: str, fire_key: str, owner: str, fired_at: int) -> bool: ...
    def set_fire_run(self, trigger_id: str, fire_key: str, run_id: str) -> None: ...
    def count_fires(self, trigger_id: str) -> int: ...
    def add_trigger_event(self, kind: str, name: str, payload: Mapping[str, object],
                          created_at: int) -> TriggerEvent: ...
    def trigger_events(self, kind: str, name: str, after_id: int = 0) -> list[TriggerEvent]: ...
    def acquire_lease(self, name: str, owner: str, now: int, ttl_ms: int) -> bool: ...
    def release_lease(self, name: str, owner: str) -> None: ...


class ServingStore(Protocol):
    """Versioned deployments, the index of prediction-log batches, and feedback."""

    def add_deployment_version(
        self,
        name: str,
        spec: DeploymentSpec,
        *,
        action: str,
        user: str,
        created_at: int,
        message: str = "",
        create: bool = False,
        expected_version: int | None = None,
    ) -> Deployment:
        """Write the next version of ``name``. ``create=True`` raises ``ConflictError`` if
        it exists; otherwise a missing deployment raises ``NotFoundError``. With
        ``expected_version``, the write happens only if the current version is that one
        (else ``ConflictError``): a compare-and-set for read-modify-write changes."""
        ...
    def get_deployment(self, name: str, version: int | None = None) -> Deployment: ...
    def deployment_head(self, name: str) -> int:
        """The current version number (a cheap query, polled by servers)."""
        ...
    def list_deployments(self) -> list[Deployment]: ...
    def deployment_history(self, name: str) -> list[Deployment]: ...
    def add_prediction_log(self, batch: PredictionLogBatch) -> None: ...
    def list_prediction_logs(
        self, deployment: str, start: int | None = None, end: int | None = None
    ) -> list[PredictionLogBatch]: ...
    def add_feedback(self, items: Sequence[Feedback]) -> None:
        """Store ground truth; a request id given again replaces the earlier label."""
        ...
    def get_feedback(
        self, deployment: str, start: int | None = None, end: int | None = None
    ) -> list[Feedback]: ...


class MonitoringStore(Protocol):
    """Monitors, one stored result per window they looked at, alert rules, alerts, and the
    reference profiles drift is measured against."""

    def create_monitor(self, monitor: Monitor) -> Monitor:
        """Store a new monitor; ``ConflictError`` if the name is taken."""
        ...
    def get_monitor(self, name: str) -> Monitor:
        """``NotFoundError`` names the known monitors."""
        ...
    def list_monitors(self) -> list[Monitor]: ...
    def delete_monitor(self, name: str) -> None:
        """Delete the monitor and its rules (its results and alerts stay as history)."""
        ...
    def add_monitor_result(self, monitor: str, *, window_start: int, window_end: int,
                           status: str, rows: int, data: dict[str, Any],
                           created_at: int) -> MonitorResult:
        """Store one window's statistics as the monitor's next ``seq``."""
        ...
    def list_monitor_results(self, monitor: str, limit: int | None = None
                             ) -> list[MonitorResult]:
        """Oldest first; the last ``limit`` when given."""
        ...
    def save_alert_rule(self, rule: AlertRule) -> AlertRule:
        """Create or replace the rule ``(monitor, name)``; the monitor must exist."""
        ...
    def list_alert_rules(self, monitor: str | None = None) -> list[AlertRule]: ...
    def delete_alert_rule(self, monitor: str, name: str) -> None: ...
    def add_alert(self, alert: Alert) -> Alert:
        """Store a fired alert; returns it with its new ``alert_id``."""
        ...
    def set_alert_delivery(self, alert_id: int, event_id: int, sinks: dict[str, str]) -> None: ...
    def list_alerts(self, monitor: str | None = None, rule: str | None = None,
                    limit: int = 1000) -> list[Alert]:
        """Newest first."""
        ...
    def get_alert(self, alert_id: int) -> Alert: ...
    def set_reference_profile(self, profile: ReferenceProfile) -> None: ...
    def get_reference_profile(self, model: str, version: int) -> ReferenceProfile | None: ...


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


# Every concern's Protocol in one interface; each backend implements them all.
@runtime_checkable
class MetadataStore(
    TrackingStore,
    RegistryStore,
    LineageStore,
    DataStore,
    FeatureRegistryStore,
    PipelineStore,
    ServingStore,
    MonitoringStore,
    AuditStore,
    Protocol,
):
    """Everything kiln keeps about its objects. ``close()`` releases connections."""

    url: str

    def close(self) -> None: ...


@runtime_checkable
class PrivacyStore(Protocol):
    """Removing a data subject's rows (``kiln privacy forget``), kept by SQL stores.

    Not part of :class:`MetadataStore`: forgetting runs where the database is."""

    def replace_prediction_log(self, deployment: str, artifact: str,
                               replacement: PredictionLogBatch | None) -> int: ...
    def delete_feedback(self, request_ids: Sequence[str]) -> int: ...


@runtime_checkable
class AuthStore(Protocol):
    """Users, hashed API tokens and model owners, kept by the store ``kiln server`` runs on.

    Not part of :class:`MetadataStore`: clients never manage access through the
    REST store; ``kiln users`` / ``kiln tokens`` write to the server's database.
    """

    def create_user(self, name: str, role: str, created_at: int) -> User: ...
    def get_user(self, name: str) -> User: ...
    def list_users(self) -> list[User]: ...
    def create_token(self, token_id: str, user: str, token_sha256: str, label: str,
                     created_at: int) -> ApiToken: ...
    def revoke_token(self, token_id: str, revoked_at: int) -> None: ...
    def list_tokens(self, user: str | None = None) -> list[ApiToken]: ...
    def find_token(self, token_sha256: str) -> tuple[User, ApiToken] | None: ...
    def add_model_owner(self, name: str, user: str) -> None: ...
    def model_owners(self, name: str) -> list[str]: ...


@runtime_checkable
class SweepStore(Protocol):
    """The journals of hyperparameter sweeps (each sweep's Optuna study, as operations).

    Not part of :class:`MetadataStore`: sweeps need direct access to a SQL store.
    Entries of one sweep are numbered 0, 1, 2, ... without gaps, in append order,
    even when several processes append at once.
    """

    def append_sweep_entries(self, sweep: str, entries: Sequence[str], created_at: int
                             ) -> None: ...
    def read_sweep_entries(self, sweep: str, start: int = 0) -> list[str]: ...
    def list_sweeps(self) -> list[tuple[str, int]]: ...
