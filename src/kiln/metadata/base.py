"""The metadata store interface. Every backend (SQL, REST) implements ``MetadataStore``.

It is split by concern so each part stays small; ``kiln.testing.MetadataStoreSuite``
checks any implementation against the behaviour described here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from kiln.entities import (
    AliasEvent,
    ApiToken,
    Experiment,
    LineageEdge,
    Metric,
    ModelVersion,
    RegisteredModel,
    Run,
    RunArtifact,
    RunStatus,
    Signature,
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
class MetadataStore(TrackingStore, RegistryStore, LineageStore, Protocol):
    """Everything kiln keeps about its objects. ``close()`` releases connections."""

    url: str

    def close(self) -> None: ...


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
