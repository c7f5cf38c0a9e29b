"""A local process pool: independent steps run in parallel on all cores.

Workers are forked from a small server process that has kiln imported; each
opens the workspace's stores once, when the pool starts. A step's inputs are
read from the artifact store (arrays memory-mapped), never pickled across, and
its function travels cloudpickled, so a script need not guard its top level
with ``if __name__ == "__main__"``: workers never re-run it.
"""

from __future__ import annotations

import atexit
import importlib.machinery
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING

from kiln.pipelines.worker import StepResult, StepTask, run_pickled, worker_workspace

if TYPE_CHECKING:
    from kiln.settings import Settings
    from kiln.workspace import Workspace

_pools: dict[tuple[int, str, str], ProcessPoolExecutor] = {}
_lock = threading.Lock()
_PRELOAD = ["kiln.pipelines.worker", "kiln.workspace", "kiln.pipelines.materializers", "numpy"]


@contextmanager
def _main_not_rerun() -> Iterator[None]:
    """Workers import ``__main__`` again unless it names a module; name a harmless one."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    main.__spec__ = importlib.machinery.ModuleSpec("kiln.pipelines.executors._main", None)
    try:
        yield
    finally:
        main.__spec__ = None


def _ready() -> int:
    return os.getpid()


def _pool(workers: int, settings: Settings) -> ProcessPoolExecutor:
    key = (workers, settings.db_url, settings.artifacts_url)
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                       initializer=worker_workspace, initargs=(settings,))
            with _main_not_rerun():  # start every worker now, not on the first steps
                for future in [pool.submit(_ready) for _ in range(workers)]:
                    future.result()
            _pools[key] = pool
        return pool


@atexit.register
def _shutdown_pools() -> None:
    with _lock:
        for pool in _pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        _pools.clear()


class ProcessExecutor:
    """Steps as tasks of a process pool of ``max_workers`` (default: the CPU count).

    The pool is kept for later runs against the same stores in the same process.
    """

    name = "process"
    parallel = True

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or os.cpu_count() or 2

    def submit(self, task: StepTask, ws: Workspace) -> Future[StepResult]:
        import cloudpickle

        task.settings = ws.settings
        pool = _pool(self.max_workers, ws.settings)
        with _main_not_rerun():  # a worker that died is replaced on submit
            return pool.submit(run_pickled, cloudpickle.dumps(task))

    def close(self) -> None:
        return None
