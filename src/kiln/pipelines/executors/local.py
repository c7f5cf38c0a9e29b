"""The default executor: each step runs in this process, one after another.

Outputs are stored as with every executor, and also kept in memory for the run:
a later step gets the object its upstream step returned instead of reading it back
(so steps must not modify their inputs in place; arrays are read back memory-mapped
and read-only, as under every executor).
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from kiln.pipelines.worker import StepResult, StepTask, execute

if TYPE_CHECKING:
    from kiln.workspace import Workspace


class LocalExecutor:
    """Runs a step when it is submitted, in the caller's process and workspace."""

    name = "local"
    parallel = False

    def __init__(self) -> None:
        self._memory: dict[str, Any] = {}

    def submit(self, task: StepTask, ws: Workspace) -> Future[StepResult]:
        future: Future[StepResult] = Future()
        future.set_result(execute(task, ws, self._memory))
        return future

    def close(self) -> None:
        self._memory.clear()
