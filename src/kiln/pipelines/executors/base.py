"""The executor interface: submit a step task, get a future of its result.

An executor only runs :class:`~kiln.pipelines.worker.StepTask` objects; the
runner decides what is ready, checks the cache and records everything, so a
new executor is a few lines. ``kiln.testing.ExecutorSuite`` checks one.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from kiln.pipelines.worker import StepResult, StepTask
    from kiln.workspace import Workspace


@runtime_checkable
class Executor(Protocol):
    """Runs step tasks. ``parallel`` says whether independent steps may overlap."""

    name: str
    parallel: bool

    def submit(self, task: StepTask, ws: Workspace) -> Future[StepResult]: ...
    def close(self) -> None: ...
