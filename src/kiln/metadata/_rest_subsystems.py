"""The REST store's calls for data, features, pipelines, serving and audit.

A mixin of :class:`kiln.metadata.rest.RestMetadataStore`, kept apart so each module
stays one screenful per concern; every method mirrors one in :mod:`kiln.metadata.base`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from kiln.entities import (
    AuditEvent,
    CacheEntry,
    DatasetVersion,
    Deployment,
    DeploymentSpec,
    FeatureDefinition,
    Feedback,
    Materialization,
    PredictionLogBatch,
    StepRunWrite,
    TriggerEvent,
    TriggerRecord,
)
from kiln.metadata import wire
from kiln.metadata.base import DefinitionSpec

#: The largest page the server hands out (``kiln.server.api._common.MAX_LIMIT``).
PAGE = 10_000


def _q(value: str) -> str:
    return quote(value, safe="")


def _times(start: int | None, end: int | None) -> dict[str, int]:
    return {k: v for k, v in (("start", start), ("end", end)) if v is not None}


class RestSubsystems:
    """Data versions, feature definitions, pipeline state, deployments and the audit log."""

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _pages(self, path: str, params: Mapping[str, Any] | None = None
               ) -> Iterator[Any]:  # pragma: no cover
        raise NotImplementedError

    # -- data ---------------------------------------------------------------------------
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
    ) -> DatasetVersion:
        body = {"tree": tree, "kind": kind, "size": size, "file_count": file_count,
                "rows": rows, "schema": dict(schema) if schema is not None else None,
                "user": user, "created_at": created_at, "git_commit": git_commit,
                "source": source, "description": description}
        return wire.to_record(DatasetVersion, self._call(
            "POST", f"/datasets/{_q(name)}/versions", json=body))

    def get_dataset_version(self, name: str, version: int) -> DatasetVersion:
        return wire.to_record(DatasetVersion, self._call(
            "GET", f"/datasets/{_q(name)}/versions/{version}"))

    def latest_dataset_version(self, name: str) -> DatasetVersion:
        return wire.to_record(DatasetVersion, self._call("GET", f"/datasets/{_q(name)}/latest"))

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        return [wire.to_record(DatasetVersion, d)
                for d in self._pages(f"/datasets/{_q(name)}/versions")]

    def list_datasets(self) -> list[str]:
        return [str(n) for n in self._pages("/datasets")]

    def set_dataset_schema(self, name: str, version: int, schema: Mapping[str, Any]) -> None:
        self._call("PUT", f"/datasets/{_q(name)}/versions/{version}/schema",
                   json={"schema": dict(schema)})

    # -- feature registry -----------------------------------------------------------------
    def apply_feature_definitions(
        self, definitions: Sequence[DefinitionSpec], user: str, created_at: int
    ) -> list[FeatureDefinition]:
        body = {"definitions": [{"kind": d.kind, "name": d.name, "spec": dict(d.spec)}
                                for d in definitions],
                "user": user, "created_at": created_at}
        got = self._call("POST", "/features/definitions", json=body)
        return [wire.to_record(FeatureDefinition, d) for d in got["items"]]

    def get_feature_definition(
        self, kind: str, name: str, version: int | None = None
    ) -> FeatureDefinition:
        params = {"version": version} if version is not None else {}
        return wire.to_record(FeatureDefinition, self._call(
            "GET", f"/features/definitions/{_q(kind)}/{_q(name)}", params=params))

    def list_feature_definitions(self, kind: str | None = None) -> list[FeatureDefinition]:
        params = {"kind": kind} if kind is not None else {}
        return [wire.to_record(FeatureDefinition, d)
                for d in self._pages("/features/definitions", params)]

    def list_feature_definition_versions(self, kind: str, name: str) -> list[FeatureDefinition]:
        return [wire.to_record(FeatureDefinition, d) for d in self._pages(
            f"/features/definitions/{_q(kind)}/{_q(name)}/versions")]

    def set_materialization(self, state: Materialization) -> None:
        self._call("PUT", "/features/materializations", json=wire.record(state))

    def list_materializations(self, view: str | None = None) -> list[Materialization]:
        params = {"view": view} if view is not None else {}
        return [wire.to_record(Materialization, d)
                for d in self._pages("/features/materializations", params)]

    def get_materialization(self, view: str, target: str) -> Materialization | None:
        got = self._call("GET", f"/features/materializations/{_q(view)}",
                         params={"target": target})
        return None if got is None else wire.to_record(Materialization, got)

    # -- pipelines ------------------------------------------------------------------------
    def get_cached(self, cache_key: str) -> CacheEntry | None:
        got = self._call("GET", f"/pipelines/cache/{_q(cache_key)}")
        return None if got is None else wire.to_cache_entry(got)

    def get_cached_many(self, cache_keys: Sequence[str]) -> dict[str, CacheEntry]:
        keys = list(dict.fromkeys(cache_keys))
        found: dict[str, CacheEntry] = {}
        for start in range(0, len(keys), PAGE):
            got = self._call("POST", "/pipelines/cache/lookup",
                             json={"keys": keys[start:start + PAGE]})
            found.update((e.cache_key, e) for e in map(wire.to_cache_entry, got["items"]))
        return found

    def write_step_runs(self, experiment_id: int, parent_run_id: str, user: str,
                        writes: Sequence[StepRunWrite]) -> None:
        if writes:
            self._call("POST", "/pipelines/step-runs", json={
                "experiment_id": experiment_id, "parent_run_id": parent_run_id, "user": user,
                "writes": [wire.step_run_write(w) for w in writes]})

    def save_trigger(self, trigger: TriggerRecord) -> TriggerRecord:
        return wire.to_record(TriggerRecord, self._call("PUT", "/pipelines/triggers",
                                                        json=wire.record(trigger)))

    def list_triggers(self) -> list[TriggerRecord]:
        return [wire.to_record(TriggerRecord, d) for d in self._pages("/pipelines/triggers")]

    def set_trigger_state(self, trigger_id: str, state: Mapping[str, object],
                          updated_at: int) -> None:
        self._call("PUT", f"/pipelines/triggers/{_q(trigger_id)}/state",
                   json={"state": dict(state), "updated_at": updated_at})

    def claim_fire(self, trigger_id: str, fire_key: str, owner: str, fired_at: int) -> bool:
        got = self._call("POST", f"/pipelines/triggers/{_q(trigger_id)}/fires/{_q(fire_key)}",
                         json={"owner": owner, "fired_at": fired_at})
        return bool(got["claimed"])

    def set_fire_run(self, trigger_id: str, fire_key: str, run_id: str) -> None:
        self._call("PUT", f"/pipelines/triggers/{_q(trigger_id)}/fires/{_q(fire_key)}/run",
                   json={"run_id": run_id})

    def count_fires(self, trigger_id: str) -> int:
        return int(self._call("GET", f"/pipelines/triggers/{_q(trigger_id)}/fires/count")[
            "count"])

    def add_trigger_event(self, kind: str, name: str, payload: Mapping[str, object],
                          created_at: int) -> TriggerEvent:
        return wire.to_record(TriggerEvent, self._call("POST", "/pipelines/events", json={
            "kind": kind, "name": name, "payload": dict(payload), "created_at": created_at}))

    def trigger_events(self, kind: str, name: str, after_id: int = 0) -> list[TriggerEvent]:
        return [wire.to_record(TriggerEvent, d) for d in self._pages(
            "/pipelines/events", {"kind": kind, "name": name, "after_id": after_id})]

    def acquire_lease(self, name: str, owner: str, now: int, ttl_ms: int) -> bool:
        got = self._call("POST", f"/pipelines/leases/{_q(name)}",
                         json={"owner": owner, "now": now, "ttl_ms": ttl_ms})
        return bool(got["acquired"])

    def release_lease(self, name: str, owner: str) -> None:
        self._call("DELETE", f"/pipelines/leases/{_q(name)}", params={"owner": owner})

    # -- serving --------------------------------------------------------------------------
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
        body = {"spec": spec.to_dict(), "action": action, "user": user,
                "created_at": created_at, "message": message, "create": create,
                "expected_version": expected_version}
        return wire.to_deployment(self._call("POST", f"/deployments/{_q(name)}/versions",
                                             json=body))

    def get_deployment(self, name: str, version: int | None = None) -> Deployment:
        params = {"version": version} if version is not None else {}
        return wire.to_deployment(self._call("GET", f"/deployments/{_q(name)}", params=params))

    def deployment_head(self, name: str) -> int:
        return int(self._call("GET", f"/deployments/{_q(name)}/head")["version"])

    def list_deployments(self) -> list[Deployment]:
        return [wire.to_deployment(d) for d in self._pages("/deployments")]

    def deployment_history(self, name: str) -> list[Deployment]:
        return [wire.to_deployment(d) for d in self._pages(f"/deployments/{_q(name)}/history")]

    def add_prediction_log(self, batch: PredictionLogBatch) -> None:
        body = wire.record(batch)
        del body["deployment"]
        self._call("POST", f"/deployments/{_q(batch.deployment)}/prediction-logs", json=body)

    def list_prediction_logs(
        self, deployment: str, start: int | None = None, end: int | None = None
    ) -> list[PredictionLogBatch]:
        return [wire.to_record(PredictionLogBatch, d) for d in self._pages(
            f"/deployments/{_q(deployment)}/prediction-logs", _times(start, end))]

    def add_feedback(self, items: Sequence[Feedback]) -> None:
        if items:
            self._call("POST", "/feedback", json={"items": [wire.record(f) for f in items]})

    def get_feedback(
        self, deployment: str, start: int | None = None, end: int | None = None
    ) -> list[Feedback]:
        return [wire.to_record(Feedback, d) for d in self._pages(
            f"/deployments/{_q(deployment)}/feedback", _times(start, end))]

    # -- audit ----------------------------------------------------------------------------
    def append_audit_event(
        self,
        actor: str,
        action: str,
        object_kind: str,
        object_id: str,
        before: Any,
        after: Any,
        timestamp: int,
    ) -> AuditEvent:
        return wire.to_record(AuditEvent, self._call("POST", "/audit/events", json={
            "actor": actor, "action": action, "object_kind": object_kind,
            "object_id": object_id, "before": before, "after": after, "timestamp": timestamp}))

    def list_audit_events(
        self,
        *,
        object_kind: str | None = None,
        object_id: str | None = None,
        action: str | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[AuditEvent]:
        filters = {k: v for k, v in (("object_kind", object_kind), ("object_id", object_id),
                                     ("action", action)) if v is not None}
        events: list[AuditEvent] = []
        cursor: int | None = after_seq
        while cursor is not None and len(events) < limit:
            got = self._call("GET", "/audit/events", params={
                **filters, "after_seq": cursor, "limit": min(PAGE, limit - len(events))})
            events += [wire.to_record(AuditEvent, d) for d in got["items"]]
            cursor = got.get("next_after_seq")
        return events

    def audit_head(self) -> tuple[int, str]:
        got = self._call("GET", "/audit/head")
        return int(got["seq"]), str(got["hash"])
