"""Triggers: what starts a pipeline by itself. Declared next to the pipeline::

    @pipeline(triggers=[schedule(cron="0 3 * * *"), on_dataset("churn"),
                        on_alert("churn-drift")])
    def churn_training(dataset: str = "churn@latest", C: float = 1.0): ...

A trigger is small: it names itself (``kind`` and ``key``), says what its
first state is, and given its state and the time, which *fire keys* are due.
The scheduler fires each ``(trigger, fire key)`` at most once, whoever asks.
New kinds subclass :class:`Trigger`; the monitoring subsystem fires
``on_alert`` triggers with :func:`record_alert`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.entities import TriggerEvent
    from kiln.workspace import Workspace

MISSED_POLICIES = ("catch_up", "skip")
VersionLister = Callable[["Workspace", str], Sequence[str]]


@dataclass(frozen=True)
class TriggerContext:
    """What a trigger check sees: the workspace, the time, the missed-schedule policy."""

    workspace: Workspace
    now: int
    missed: str = "catch_up"
    grace_ms: int = 60_000


@dataclass(frozen=True)
class Due:
    """The outcome of a check: fire keys due now (each with extra run parameters) and the
    state to remember."""

    fires: list[tuple[str, dict[str, Any]]]
    state: dict[str, Any]


class Trigger:
    """Base class of triggers. Subclasses set ``kind`` and implement the three methods."""

    kind = "trigger"

    @property
    def key(self) -> str:
        """What tells this trigger apart from others of its kind on the same pipeline."""
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """JSON data from which :func:`trigger_from_spec` rebuilds the trigger."""
        raise NotImplementedError

    def initial_state(self, ctx: TriggerContext) -> dict[str, Any]:
        """The state when the trigger is first seen: nothing before it fires."""
        raise NotImplementedError

    def check(self, ctx: TriggerContext, state: dict[str, Any]) -> Due:
        """Fire keys due since ``state``, and the new state."""
        raise NotImplementedError

    def trigger_id(self, pipeline_ref: str) -> str:
        return f"{pipeline_ref}#{self.kind}:{self.key}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"


class Schedule(Trigger):
    """Fires on a cron schedule (5 fields, or 6 with seconds last), in UTC.

    ``missed`` overrides the scheduler's policy for runs missed while no scheduler
    was up: ``catch_up`` fires once for them, ``skip`` waits for the next one.
    """

    kind = "schedule"

    def __init__(self, cron: str, missed: str | None = None) -> None:
        from croniter import croniter

        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise InvalidArgumentError(f"cron expression {cron!r} is not valid; e.g. "
                                       "'0 3 * * *' (03:00 every day)")
        if missed is not None and missed not in MISSED_POLICIES:
            raise InvalidArgumentError(f"missed={missed!r} is not accepted; use "
                                       f"{' or '.join(MISSED_POLICIES)}")
        self.cron = cron
        self.missed = missed

    @property
    def key(self) -> str:
        return self.cron

    def spec(self) -> dict[str, Any]:
        return {"cron": self.cron, "missed": self.missed}

    def initial_state(self, ctx: TriggerContext) -> dict[str, Any]:
        return {"last": ctx.now}

    def check(self, ctx: TriggerContext, state: dict[str, Any]) -> Due:
        from croniter import croniter

        last = int(state.get("last", ctx.now))
        it = croniter(self.cron, last / 1000)
        due: list[int] = []
        while True:
            t = round(float(it.get_next(float)) * 1000)
            if t > ctx.now:
                break
            due.append(t)
            if len(due) > 100_000:  # a very old state: stop counting
                break
        if not due:
            return Due([], state)
        latest = max(due)
        policy = self.missed or ctx.missed
        missed = len(due) > 1 or latest < ctx.now - ctx.grace_ms
        if missed and policy == "skip" and latest < ctx.now - ctx.grace_ms:
            return Due([], {"last": latest, "skipped": len(due)})
        return Due([(str(latest), {})], {"last": latest, "missed": len(due) - 1})


def workspace_dataset_versions(ws: Workspace, name: str) -> Sequence[str]:
    """Versions of dataset ``name``, oldest first, from the workspace's data subsystem
    (its ``list_dataset_versions`` method), or none when it is not installed."""
    lister = getattr(ws, "list_dataset_versions", None)
    if lister is None:
        return []
    return [str(getattr(v, "version", v)) for v in lister(name)]


class OnDataset(Trigger):
    """Fires when dataset ``name`` gets a new version.

    ``versions(workspace, name)`` lists its versions oldest first (by default the
    data subsystem's); ``param`` names a pipeline parameter that receives
    ``"name@version"``.
    """

    kind = "dataset"

    def __init__(self, name: str, *, versions: VersionLister | None = None,
                 param: str | None = None) -> None:
        self.name = name
        self.versions = versions or workspace_dataset_versions
        self.param = param

    @property
    def key(self) -> str:
        return self.name

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "param": self.param}

    def _latest(self, ctx: TriggerContext) -> str | None:
        found = list(self.versions(ctx.workspace, self.name))
        return found[-1] if found else None

    def initial_state(self, ctx: TriggerContext) -> dict[str, Any]:
        return {"seen": self._latest(ctx)}

    def check(self, ctx: TriggerContext, state: dict[str, Any]) -> Due:
        latest = self._latest(ctx)
        if latest is None or latest == state.get("seen"):
            return Due([], state)
        extra = {self.param: f"{self.name}@{latest}"} if self.param else {}
        return Due([(f"{self.name}@{latest}", extra)], {"seen": latest})


class OnAlert(Trigger):
    """Fires when an alert named ``name`` is recorded (by monitoring, or
    :func:`record_alert`); alerts that arrive together fire one run."""

    kind = "alert"

    def __init__(self, name: str, *, param: str | None = None) -> None:
        self.name = name
        self.param = param

    @property
    def key(self) -> str:
        return self.name

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "param": self.param}

    def _events(self, ctx: TriggerContext, after: int) -> list[TriggerEvent]:
        return ctx.workspace.store.trigger_events("alert", self.name, after)

    def initial_state(self, ctx: TriggerContext) -> dict[str, Any]:
        events = self._events(ctx, 0)
        return {"last_event": events[-1].event_id if events else 0}

    def check(self, ctx: TriggerContext, state: dict[str, Any]) -> Due:
        events = self._events(ctx, int(state.get("last_event", 0)))
        if not events:
            return Due([], state)
        last = events[-1]
        extra = {self.param: str(last.event_id)} if self.param else {}
        return Due([(f"alert:{last.event_id}", extra)], {"last_event": last.event_id})


class OnCommit(Trigger):
    """Fires when the git commit checked out in ``repo`` changes. In CI, run
    ``kiln pipeline run MODULE:fn`` in the job instead; this covers a scheduler
    that watches a deployed checkout."""

    kind = "commit"

    def __init__(self, repo: str = ".") -> None:
        self.repo = repo

    @property
    def key(self) -> str:
        return self.repo

    def spec(self) -> dict[str, Any]:
        return {"repo": self.repo}

    def _head(self) -> str | None:
        try:
            out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=self.repo,
                                 capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    def initial_state(self, ctx: TriggerContext) -> dict[str, Any]:
        return {"commit": self._head()}

    def check(self, ctx: TriggerContext, state: dict[str, Any]) -> Due:
        head = self._head()
        if head is None or head == state.get("commit"):
            return Due([], state)
        return Due([(head, {})], {"commit": head})


def schedule(cron: str, *, missed: str | None = None) -> Schedule:
    """Run on a cron schedule, e.g. ``schedule(cron="0 3 * * *")``."""
    return Schedule(cron, missed)


def on_dataset(name: str, *, versions: VersionLister | None = None,
               param: str | None = None) -> OnDataset:
    """Run when dataset ``name`` gets a new version."""
    return OnDataset(name, versions=versions, param=param)


def on_alert(name: str, *, param: str | None = None) -> OnAlert:
    """Run when the alert ``name`` fires (see :func:`record_alert`)."""
    return OnAlert(name, param=param)


def on_commit(repo: str = ".") -> OnCommit:
    """Run when the checked-out commit of ``repo`` changes."""
    return OnCommit(repo)


def record_alert(name: str, payload: dict[str, Any] | None = None, *,
                 workspace: Workspace | None = None) -> int:
    """Record that alert ``name`` fired; ``on_alert(name)`` triggers pick it up.
    Returns the event id."""
    from kiln.fluent import get_workspace

    ws = workspace or get_workspace()
    return ws.store.add_trigger_event("alert", name, payload or {}, now_ms()).event_id


def trigger_from_spec(kind: str, spec: dict[str, Any]) -> Trigger:
    """Rebuild a stored trigger (custom dataset listers are not stored: the default is used)."""
    if kind == "schedule":
        return Schedule(str(spec["cron"]), spec.get("missed"))
    if kind == "dataset":
        return OnDataset(str(spec["name"]), param=spec.get("param"))
    if kind == "alert":
        return OnAlert(str(spec["name"]), param=spec.get("param"))
    if kind == "commit":
        return OnCommit(str(spec.get("repo", ".")))
    raise InvalidArgumentError(f"trigger kind {kind!r} is not known; accepted: schedule, "
                               "dataset, alert, commit")
