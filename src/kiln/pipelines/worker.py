"""Running one step: load inputs, call the function (retries, timeout), store outputs.

This is what every executor runs, in-process, in a pool worker or as a Ray
task: a :class:`StepTask` goes in, a :class:`StepResult` comes out. Inputs and
outputs travel through the artifact store as :class:`~kiln.entities.OutputRef`;
metrics the step logs land on its step run, which is the active run while it runs.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import OutputRef, Run
from kiln.exceptions import StepTimeoutError
from kiln.pipelines.graph import substitute

if TYPE_CHECKING:
    from kiln.settings import Settings
    from kiln.workspace import Workspace


@dataclass
class StepTask:
    """Everything a worker needs to run one step call."""

    node_id: str
    fn: Callable[..., Any]
    run: Run
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    n_outputs: int = 1
    retries: int = 0
    timeout: float | None = None
    backoff: float = 1.0
    settings: Settings | None = None


@dataclass
class StepResult:
    """What came out of a step: its outputs' refs, or the error, and its captured logs."""

    node_id: str
    ok: bool
    outputs: list[OutputRef] = field(default_factory=list)
    logs: OutputRef | None = None
    error: str | None = None
    attempts: int = 0
    start_time: int = 0
    end_time: int = 0
    timed_out: bool = False
    produced: list[tuple[str, str]] = field(default_factory=list)


_workspaces: dict[tuple[str, str], Workspace] = {}
_ws_lock = threading.Lock()


def worker_workspace(settings: Settings) -> Workspace:
    """One workspace per store pair in a worker process, opened on first use."""
    key = (settings.db_url, settings.artifacts_url)
    with _ws_lock:
        ws = _workspaces.get(key)
        if ws is None:
            from kiln.workspace import Workspace

            ws = _workspaces[key] = Workspace(settings=settings)
        return ws


def run_pickled(payload: bytes) -> StepResult:
    """Entry point for pool and Ray workers: a cloudpickled :class:`StepTask`."""
    import cloudpickle

    task: StepTask = cloudpickle.loads(payload)
    assert task.settings is not None
    return execute(task, worker_workspace(task.settings))


def execute(task: StepTask, ws: Workspace, memory: dict[str, Any] | None = None
            ) -> StepResult:
    """Run ``task`` with its step run active; never raises for the step's own errors.

    ``memory`` (the ``local`` executor's) maps stored outputs' hashes to the values
    themselves: every output is still stored, but a step whose input is in memory gets
    that object instead of reading it back (arrays excepted: they are read back
    memory-mapped, which copies nothing, as under every executor)."""
    from kiln.pipelines.materializers import load_output, put_bytes, store_output

    def load(ref: OutputRef) -> Any:
        if memory is not None and ref.sha256 in memory:
            return memory[ref.sha256]
        return load_output(ref, ws.artifacts)

    result = StepResult(task.node_id, ok=False, start_time=now_ms())
    buffer = io.StringIO()
    from kiln.lineage import recording_outputs

    try:
        with _captured(buffer), _active(task.run, ws), recording_outputs() as produced:
            try:
                args = substitute(task.args, load, OutputRef)
                kwargs = substitute(task.kwargs, load, OutputRef)
            except Exception as exc:
                raise _InputError(f"step {task.node_id!r}: cannot load its inputs: "
                                  f"{type(exc).__name__}: {exc}") from exc
            value = _attempts(task, args, kwargs, result)
            values = _split(task, value)
            for i, v in enumerate(values):
                try:
                    ref = store_output(v, ws.artifacts)
                except Exception as exc:
                    raise _InputError(f"step {task.node_id!r}: output {i} cannot be stored: "
                                      f"{exc}") from exc
                result.outputs.append(ref)
                if memory is not None and ref.materializer != "ndarray":
                    memory[ref.sha256] = v  # arrays come back memory-mapped, never copied
            result.ok = True
            result.produced = produced
    except _InputError as exc:
        result.error = str(exc)
        buffer.write(f"error: {exc}\n")
    except _StepFailed as exc:
        result.error = str(exc)
    finally:
        ws.flush()
        result.end_time = now_ms()
        obj = put_bytes(ws.artifacts, buffer.getvalue().encode())
        result.logs = OutputRef("text", obj.sha256, obj.size)
    return result


class _InputError(Exception):
    pass


class _StepFailed(Exception):
    pass


def _attempts(task: StepTask, args: Any, kwargs: Any, result: StepResult) -> Any:
    last = ""
    for attempt in range(task.retries + 1):
        result.attempts = attempt + 1
        try:
            return _call(task, args, kwargs)
        except Exception as exc:
            result.timed_out = isinstance(exc, StepTimeoutError)
            last = str(exc) if result.timed_out else f"{type(exc).__name__}: {exc}"
            print(f"attempt {attempt + 1} of {task.retries + 1} failed:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            if attempt < task.retries:
                time.sleep(task.backoff * 2**attempt)
    tries = f" after {task.retries + 1} attempts" if task.retries else ""
    raise _StepFailed(f"step {task.node_id!r} failed{tries}: {last}")


def _call(task: StepTask, args: Any, kwargs: Any) -> Any:
    if task.timeout is None:
        return task.fn(*args, **kwargs)
    from kiln.pipelines.deadline import call_with_deadline

    return call_with_deadline(task.fn, args, kwargs, task.timeout, task.node_id)


def _split(task: StepTask, value: Any) -> list[Any]:
    if task.n_outputs == 1:
        return [value]
    if not isinstance(value, tuple | list) or len(value) != task.n_outputs:
        got = f"{len(value)} values" if isinstance(value, tuple | list) else \
            f"a {type(value).__name__}"
        raise _InputError(f"step {task.node_id!r} declares {task.n_outputs} outputs but "
                          f"returned {got}")
    return list(value)


@contextmanager
def _active(run: Run, ws: Workspace) -> Iterator[None]:
    """Make the step run the active run (and ``ws`` the workspace) of this context."""
    from kiln import fluent

    token_ws = fluent._context_workspace.set(ws)
    active = fluent.ActiveRun(run, ws)
    token_run = fluent._active_runs.set((*fluent._active_runs.get(), active))
    try:
        yield
    finally:
        fluent._active_runs.reset(token_run)
        fluent._context_workspace.reset(token_ws)


class _BufferHandler(logging.Handler):
    def __init__(self, buffer: io.StringIO) -> None:
        super().__init__(logging.INFO)
        self.buffer = buffer
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.buffer.write(self.format(record) + "\n")


@contextmanager
def _captured(buffer: io.StringIO) -> Iterator[None]:
    """Capture stdout, stderr and log records (INFO and up) of the step into ``buffer``."""
    root = logging.getLogger()
    handler = _BufferHandler(buffer)
    level = root.level
    root.addHandler(handler)
    if level > logging.INFO or level == logging.NOTSET:
        root.setLevel(logging.INFO)
    try:
        with redirect_stdout(buffer), redirect_stderr(buffer):
            yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
