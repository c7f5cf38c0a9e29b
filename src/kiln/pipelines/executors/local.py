"""The default executor: each step runs in this process, one after another."""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING

from kiln.pipelines.worker import StepResult, StepTask, execute

if TYPE_CHECKING:
    from kiln.workspace import Workspace


class LocalExecutor:
    """Runs a step when it is submitted, in the caller's process and workspace."""

    name = "local"
    parallel = False

    def submit(self, task: StepTask, ws: Workspace) -> Future[StepResult]:
        future: Future[StepResult] = Future()
        future.set_result(execute(task, ws))
        return future

    def close(self) -> None:
        return None
