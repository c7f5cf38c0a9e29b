"""Records of pipelines: cached step outputs, triggers, their firings and trigger events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kiln.entities._lineage import LineageEdge
from kiln.entities._run import RunArtifact, RunStatus


@dataclass(frozen=True, slots=True)
class OutputRef:
    """One stored step output: which materializer wrote it and the artifact it lives in."""

    materializer: str
    sha256: str
    size: int = 0


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A step run whose outputs can stand in for any later run with the same cache key."""

    cache_key: str
    step_run_id: str
    outputs: tuple[OutputRef, ...]
    created_at: int


@dataclass(frozen=True, slots=True)
class TriggerRecord:
    """A registered trigger and the scheduler's state for it.

    ``spec`` describes the trigger (``{"cron": ...}``, ``{"dataset": ...}``...);
    ``state`` is what the scheduler remembers between ticks (last scheduled time,
    last seen dataset version or event id).
    """

    trigger_id: str
    pipeline: str
    kind: str
    spec: dict[str, object] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)
    state: dict[str, object] = field(default_factory=dict)
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class TriggerEvent:
    """Something that happened outside a pipeline (an alert, a commit) that may fire one."""

    event_id: int
    kind: str
    name: str
    payload: dict[str, object]
    created_at: int


@dataclass(frozen=True, slots=True)
class TriggerFire:
    """One firing of a trigger: unique per ``(trigger_id, fire_key)``."""

    trigger_id: str
    fire_key: str
    owner: str
    fired_at: int
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class StepRunWrite:
    """One write of a step run: ``create`` inserts it (started, or complete when it was
    served from the cache or skipped), otherwise it records how the run ended."""

    run_id: str
    create: bool
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None = None
    error: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    artifacts: Sequence[RunArtifact] = ()
    edges: Sequence[LineageEdge] = ()
    cache: CacheEntry | None = None
    more_caches: Sequence[CacheEntry] = ()  # the same outputs under further keys
