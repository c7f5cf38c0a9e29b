"""A local process pool: independent steps run in parallel on all cores.

Workers are forked from a small server process that has kiln imported, and
each opens the workspace's stores once; a step's inputs are read from the
artifact store (arrays memory-mapped), never pickled across.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from kiln.pipelines.worker import StepResult, StepTask, run_pickled

if TYPE_CHECKING:
    from kiln.workspace import Workspace

_pools: dict[int, ProcessPoolExecutor] = {}
_lock = threading.Lock()


def _pool(workers: int) -> ProcessPoolExecutor:
    with _lock:
        pool = _pools.get(workers)
        if pool is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["kiln.pipelines.worker", "kiln.workspace",
                                        "kiln.pipelines.materializers"])
            pool = _pools[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        return pool


@atexit.register
def _shutdown_pools() -> None:
    with _lock:
        for pool in _pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        _pools.clear()


class ProcessExecutor:
    """Steps as tasks of a process pool of ``max_workers`` (default: the CPU count).

    The pool is kept for later runs in the same process.
    """

    name = "process"
    parallel = True

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or os.cpu_count() or 2

    def submit(self, task: StepTask, ws: Workspace) -> Future[StepResult]:
        import cloudpickle

        task.settings = ws.settings
        return _pool(self.max_workers).submit(run_pickled, cloudpickle.dumps(task))

    def close(self) -> None:
        return None
