"""Records of experiment tracking: experiments, runs, metrics, logged artifacts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class RunStatus(str, enum.Enum):
    """Lifecycle of a run. A run starts RUNNING and ends in exactly one of the others."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @classmethod
    def parse(cls, value: str | RunStatus) -> RunStatus:
        if isinstance(value, RunStatus):
            return value
        from kiln.exceptions import InvalidArgumentError

        try:
            return cls(str(value.value if isinstance(value, RunStatus) else value).upper())
        except ValueError:
            accepted = ", ".join(s.value for s in cls)
            raise InvalidArgumentError(
                f"run status {value!r} is not accepted; use one of {accepted}"
            ) from None


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs."""

    experiment_id: int
    name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Metric:
    """One logged point of a metric."""

    key: str
    value: float
    step: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class RunArtifact:
    """A file logged by a run, stored by content under ``sha256``."""

    run_id: str
    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Run:
    """A tracked run: who ran what, with which parameters, and what came out.

    ``metrics`` holds the latest value of each metric (the highest step, then
    the newest timestamp); :func:`kiln.get_metric_history` returns every point.
    """

    run_id: str
    experiment_id: int
    experiment: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    user: str
    parent_run_id: str | None = None
    error: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
