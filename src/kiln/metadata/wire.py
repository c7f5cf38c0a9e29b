"""The JSON form of kiln's records, shared by ``kiln server`` and the REST store.

JSON has no NaN or infinity: non-finite floats travel as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import Any, TypeVar

from kiln.entities import (
    Alert,
    AlertRule,
    AliasEvent,
    CacheEntry,
    Deployment,
    DeploymentSpec,
    Experiment,
    LineageEdge,
    Metric,
    ModelVersion,
    Monitor,
    MonitorResult,
    OutputRef,
    RegisteredModel,
    Run,
    RunArtifact,
    RunStatus,
    Signature,
    StepRunWrite,
)
from kiln.metadata.filters import Clause, OrderKey


def enc_float(value: float) -> float | str:
    """A float as JSON accepts it."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def dec_float(value: float | int | str) -> float:
    return float(value)


def experiment(e: Experiment) -> dict[str, Any]:
    return {"experiment_id": e.experiment_id, "name": e.name, "created_at": e.created_at}


def to_experiment(d: dict[str, Any]) -> Experiment:
    return Experiment(int(d["experiment_id"]), d["name"], int(d["created_at"]))


def run(r: Run) -> dict[str, Any]:
    return {
        "run_id": r.run_id, "experiment_id": r.experiment_id, "experiment": r.experiment,
        "name": r.name, "status": r.status.value, "start_time": r.start_time,
        "end_time": r.end_time, "user": r.user, "parent_run_id": r.parent_run_id,
        "error": r.error, "params": r.params,
        "metrics": {k: enc_float(v) for k, v in r.metrics.items()}, "tags": r.tags,
    }


def to_run(d: dict[str, Any]) -> Run:
    return Run(
        run_id=d["run_id"], experiment_id=int(d["experiment_id"]), experiment=d["experiment"],
        name=d["name"], status=RunStatus(d["status"]), start_time=int(d["start_time"]),
        end_time=d.get("end_time"), user=d["user"], parent_run_id=d.get("parent_run_id"),
        error=d.get("error"), params=dict(d.get("params") or {}),
        metrics={k: dec_float(v) for k, v in (d.get("metrics") or {}).items()},
        tags=dict(d.get("tags") or {}),
    )


def metric(m: Metric) -> list[Any]:
    return [m.key, enc_float(m.value), m.step, m.timestamp]


def to_metric(row: list[Any]) -> Metric:
    return Metric(str(row[0]), dec_float(row[1]), int(row[2]), int(row[3]))


def artifact(a: RunArtifact) -> dict[str, Any]:
    return {"run_id": a.run_id, "path": a.path, "sha256": a.sha256, "size": a.size}


def to_artifact(d: dict[str, Any]) -> RunArtifact:
    return RunArtifact(d["run_id"], d["path"], d["sha256"], int(d["size"]))


def clause(c: Clause) -> dict[str, Any]:
    value: Any = list(c.value) if isinstance(c.value, tuple) else c.value
    return {"kind": c.kind, "key": c.key, "op": c.op, "value": value}


def to_clause(d: dict[str, Any]) -> Clause:
    value = d["value"]
    return Clause(d["kind"], d["key"], d["op"], tuple(value) if isinstance(value, list) else value)


def order_key(o: OrderKey) -> dict[str, Any]:
    return {"kind": o.kind, "key": o.key, "descending": o.descending}


def to_order_key(d: dict[str, Any]) -> OrderKey:
    return OrderKey(d["kind"], d["key"], bool(d["descending"]))


def model_version(mv: ModelVersion) -> dict[str, Any]:
    return {
        "name": mv.name, "version": mv.version, "run_id": mv.run_id, "flavor": mv.flavor,
        "artifact": mv.artifact,
        "signature": mv.signature.to_dict() if mv.signature is not None else None,
        "created_at": mv.created_at, "user": mv.user, "description": mv.description,
        "aliases": list(mv.aliases),
    }


def to_model_version(d: dict[str, Any]) -> ModelVersion:
    sig = d.get("signature")
    return ModelVersion(
        name=d["name"], version=int(d["version"]), run_id=d.get("run_id"), flavor=d["flavor"],
        artifact=d["artifact"], signature=Signature.from_dict(sig) if sig else None,
        created_at=int(d["created_at"]), user=d["user"], description=d.get("description", ""),
        aliases=tuple(d.get("aliases") or ()),
    )


def registered_model(m: RegisteredModel) -> dict[str, Any]:
    return {"name": m.name, "created_at": m.created_at, "description": m.description,
            "latest_version": m.latest_version, "aliases": dict(m.aliases)}


def to_registered_model(d: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(d["name"], int(d["created_at"]), d.get("description", ""),
                           int(d["latest_version"]), dict(d.get("aliases") or {}))


def alias_event(e: AliasEvent) -> dict[str, Any]:
    return {"name": e.name, "alias": e.alias, "from_version": e.from_version,
            "to_version": e.to_version, "user": e.user, "timestamp": e.timestamp}


def to_alias_event(d: dict[str, Any]) -> AliasEvent:
    return AliasEvent(d["name"], d["alias"], d.get("from_version"), d.get("to_version"),
                      d["user"], int(d["timestamp"]))


def edge(e: LineageEdge) -> dict[str, Any]:
    return {"src_kind": e.src_kind, "src_id": e.src_id, "dst_kind": e.dst_kind,
            "dst_id": e.dst_id, "relation": e.relation, "created_at": e.created_at}


def to_edge(d: dict[str, Any]) -> LineageEdge:
    return LineageEdge(d["src_kind"], d["src_id"], d["dst_kind"], d["dst_id"], d["relation"],
                       int(d["created_at"]))


# -- the other subsystems' records --------------------------------------------------------
# Flat records (every field a JSON value) travel as their fields; the few with nested
# records (cache entries, deployments, step-run writes) have their own pair below.
R = TypeVar("R")


def record(obj: Any) -> dict[str, Any]:
    """A flat record (``DatasetVersion``, ``FeatureDefinition``, ``AuditEvent``...) as JSON."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def to_record(cls: type[R], d: dict[str, Any]) -> R:
    """The record of type ``cls`` that :func:`record` encoded (unknown keys are ignored)."""
    return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})  # type: ignore[arg-type]


def cache_entry(c: CacheEntry) -> dict[str, Any]:
    return {"cache_key": c.cache_key, "step_run_id": c.step_run_id, "created_at": c.created_at,
            "outputs": [[o.materializer, o.sha256, o.size] for o in c.outputs]}


def to_cache_entry(d: dict[str, Any]) -> CacheEntry:
    return CacheEntry(d["cache_key"], d["step_run_id"],
                      tuple(OutputRef(str(m), str(s), int(n)) for m, s, n in d["outputs"]),
                      int(d["created_at"]))


def step_run_write(w: StepRunWrite) -> dict[str, Any]:
    return {"run_id": w.run_id, "create": w.create, "name": w.name, "status": w.status.value,
            "start_time": w.start_time, "end_time": w.end_time, "error": w.error,
            "params": dict(w.params), "tags": dict(w.tags),
            "artifacts": [artifact(a) for a in w.artifacts], "edges": [edge(e) for e in w.edges],
            "cache": cache_entry(w.cache) if w.cache is not None else None,
            "more_caches": [cache_entry(c) for c in w.more_caches]}


def to_step_run_write(d: dict[str, Any]) -> StepRunWrite:
    return StepRunWrite(
        d["run_id"], bool(d["create"]), d["name"], RunStatus(d["status"]), int(d["start_time"]),
        d.get("end_time"), d.get("error"), dict(d.get("params") or {}),
        dict(d.get("tags") or {}), [to_artifact(a) for a in d.get("artifacts") or ()],
        [to_edge(e) for e in d.get("edges") or ()],
        to_cache_entry(d["cache"]) if d.get("cache") else None,
        tuple(to_cache_entry(c) for c in d.get("more_caches") or ()))


def deployment(dep: Deployment) -> dict[str, Any]:
    return {"name": dep.name, "version": dep.version, "spec": dep.spec.to_dict(),
            "action": dep.action, "user": dep.user, "created_at": dep.created_at,
            "message": dep.message}


def to_deployment(d: dict[str, Any]) -> Deployment:
    return Deployment(d["name"], int(d["version"]), DeploymentSpec.from_dict(d["spec"]),
                      d["action"], d["user"], int(d["created_at"]), d.get("message", ""))


# -- monitoring ---------------------------------------------------------------------------
# A window's statistics may hold NaN anywhere: they travel as JSON text (``data_json``,
# parsed with NaN allowed), the way the SQL store keeps them.
def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float nested in it as :func:`enc_float` writes it,
    for answers people read (the UI's monitor pages)."""
    if isinstance(value, float):
        return enc_float(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def monitor_result(r: MonitorResult) -> dict[str, Any]:
    out = r.to_dict()
    del out["data"]
    return {**out, "data_json": json.dumps(r.data, allow_nan=True)}


def to_monitor_result(d: dict[str, Any]) -> MonitorResult:
    return MonitorResult(d["monitor"], int(d["seq"]), int(d["window_start"]),
                         int(d["window_end"]), d["status"], int(d["rows"]),
                         json.loads(d["data_json"]), int(d["created_at"]))


def to_monitor(d: dict[str, Any]) -> Monitor:
    return Monitor(d["name"], d["deployment"], int(d["every_ms"]), int(d["window_ms"]),
                   dict(d.get("config") or {}), d.get("user", ""), int(d["created_at"]))


def to_alert_rule(d: dict[str, Any]) -> AlertRule:
    return AlertRule(d["monitor"], d["name"], d["expression"], tuple(d["sinks"]),
                     int(d["cooldown_ms"]), int(d["created_at"]))


def alert(a: Alert) -> dict[str, Any]:
    return {**a.to_dict(), "value": None if a.value is None else enc_float(a.value)}


def to_alert(d: dict[str, Any]) -> Alert:
    value = d.get("value")
    return Alert(int(d["alert_id"]), d["monitor"], d["rule"], d["expression"],
                 None if value is None else dec_float(value), d["message"],
                 int(d["window_seq"]), int(d["created_at"]), int(d.get("event_id") or 0),
                 dict(d.get("sinks") or {}))
