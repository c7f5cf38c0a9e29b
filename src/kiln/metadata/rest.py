"""The REST metadata store: every ``MetadataStore`` call sent to ``kiln server``.

Selected by ``KILN_SERVER=http://host:5000`` (and ``KILN_TOKEN``); it passes the same
conformance suites (``kiln.testing``) as the SQL store. The calls of data, features,
pipelines, serving and audit live in :mod:`kiln.metadata._rest_subsystems`, those of
monitoring in :mod:`kiln.metadata._rest_monitoring`.
Metric points arrive here already batched by the workspace's ``MetricBuffer``: one
request per batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kiln.entities import (
    AliasEvent,
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
from kiln.metadata import wire
from kiln.metadata._http import call, new_client
from kiln.metadata._rest_monitoring import RestMonitoring
from kiln.metadata._rest_subsystems import PAGE, RestSubsystems, _q
from kiln.metadata.base import RunQuery


class RestMetadataStore(RestSubsystems, RestMonitoring):
    """A :class:`~kiln.metadata.base.MetadataStore` over HTTP.

    ``url`` is the server's base URL; ``token`` defaults to ``KILN_TOKEN``. The
    token is sent as ``Authorization: Bearer`` and never shown in ``repr``.
    """

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        token = token if token is not None else os.environ.get("KILN_TOKEN", "")
        self._client = new_client(self.url, token or None)

    def __repr__(self) -> str:
        return f"RestMetadataStore({self.url!r})"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return call(self._client, self.url, method, path, **kwargs)

    def _pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        offset: int | None = 0
        while offset is not None:
            body = self._call("GET", path, params={**(params or {}), "limit": PAGE,
                                                   "offset": offset})
            yield from body["items"]
            offset = body.get("next_offset")

    def close(self) -> None:
        self._client.close()

    # -- tracking ---------------------------------------------------------------------
    def get_or_create_experiment(self, name: str) -> Experiment:
        return wire.to_experiment(self._call("POST", "/experiments", json={"name": name}))

    def get_experiment(self, name: str) -> Experiment:
        return wire.to_experiment(self._call("GET", f"/experiments/{_q(name)}"))

    def list_experiments(self) -> list[Experiment]:
        return [wire.to_experiment(d) for d in self._pages("/experiments")]

    def create_run(
        self,
        experiment_id: int,
        name: str,
        user: str,
        start_time: int,
        tags: Mapping[str, str],
        parent_run_id: str | None = None,
    ) -> Run:
        body = {"experiment_id": experiment_id, "name": name, "user": user,
                "start_time": start_time, "tags": dict(tags), "parent_run_id": parent_run_id}
        return wire.to_run(self._call("POST", "/runs", json=body))

    def get_run(self, run_id: str) -> Run:
        return wire.to_run(self._call("GET", f"/runs/{_q(run_id)}"))

    def end_run(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        error: str | None = None,
        metrics: Sequence[tuple[str, Metric]] = (),
    ) -> None:
        # Buffered points first, then the status: two calls, in order.
        if metrics:
            self.write_metrics(metrics)
        self._call("POST", f"/runs/{_q(run_id)}/end",
                   json={"status": status.value, "end_time": end_time, "error": error})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        body = {"metrics": [wire.metric(m) for m in metrics], "params": dict(params or {}),
                "tags": dict(tags or {})}
        self._call("POST", f"/runs/{_q(run_id)}/batch", json=body)

    def write_metrics(self, points: Sequence[tuple[str, Metric]]) -> None:
        if not points:
            return
        rows = [[rid, m.key, wire.enc_float(m.value), m.step, m.timestamp] for rid, m in points]
        self._call("POST", "/metrics", json={"points": rows})

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return [wire.to_metric(row)
                for row in self._pages(f"/runs/{_q(run_id)}/metrics", {"key": key})]

    def search_runs(self, query: RunQuery) -> list[Run]:
        body = {
            "experiment_ids": list(query.experiment_ids) if query.experiment_ids is not None
            else None,
            "clauses": [wire.clause(c) for c in query.clauses],
            "order_by": [wire.order_key(o) for o in query.order_by],
            "max_results": query.max_results,
            "offset": query.offset,
            "parent_run_id": query.parent_run_id,
        }
        return [wire.to_run(d) for d in self._call("POST", "/runs/search", json=body)["items"]]

    def log_artifact(self, artifact: RunArtifact) -> None:
        self._call("POST", f"/runs/{_q(artifact.run_id)}/artifacts",
                   json={"path": artifact.path, "sha256": artifact.sha256,
                         "size": artifact.size})

    def list_artifacts(self, run_id: str) -> list[RunArtifact]:
        return [wire.to_artifact(d) for d in self._pages(f"/runs/{_q(run_id)}/artifacts")]

    # -- registry ---------------------------------------------------------------------
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
    ) -> ModelVersion:
        body = {"run_id": run_id, "flavor": flavor, "artifact": artifact,
                "signature": signature.to_dict() if signature is not None else None,
                "user": user, "created_at": created_at, "description": description}
        return wire.to_model_version(self._call("POST", f"/models/{_q(name)}/versions",
                                                json=body))

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return wire.to_model_version(self._call("GET", f"/models/{_q(name)}/versions/{version}"))

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        return [wire.to_model_version(d) for d in self._pages(f"/models/{_q(name)}/versions")]

    def get_registered_model(self, name: str) -> RegisteredModel:
        return wire.to_registered_model(self._call("GET", f"/models/{_q(name)}"))

    def list_registered_models(self) -> list[RegisteredModel]:
        return [wire.to_registered_model(d) for d in self._pages("/models")]

    def set_alias(self, name: str, alias: str, version: int, user: str, timestamp: int) -> None:
        self._call("PUT", f"/models/{_q(name)}/aliases/{_q(alias)}",
                   json={"version": version, "user": user, "timestamp": timestamp})

    def delete_alias(self, name: str, alias: str, user: str, timestamp: int) -> None:
        self._call("DELETE", f"/models/{_q(name)}/aliases/{_q(alias)}",
                   params={"user": user, "timestamp": timestamp})

    def get_alias(self, name: str, alias: str) -> int:
        body = self._call("GET", f"/models/{_q(name)}/aliases/{_q(alias)}")
        return int(body["version"])

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        params = {"alias": alias} if alias is not None else {}
        return [wire.to_alias_event(d)
                for d in self._pages(f"/models/{_q(name)}/alias-history", params)]

    # -- lineage ----------------------------------------------------------------------
    def add_edges(self, edges: Sequence[LineageEdge]) -> None:
        if edges:
            self._call("POST", "/lineage/edges", json={"edges": [wire.edge(e) for e in edges]})

    def edges_from(self, kind: str, object_id: str) -> list[LineageEdge]:
        return [wire.to_edge(d) for d in self._pages(
            "/lineage/edges", {"kind": kind, "id": object_id, "direction": "from"})]

    def edges_to(self, kind: str, object_id: str) -> list[LineageEdge]:
        return [wire.to_edge(d) for d in self._pages(
            "/lineage/edges", {"kind": kind, "id": object_id, "direction": "to"})]


__all__ = ["RestMetadataStore"]
