"""Step timeouts that stop the step: the call runs in a forked child killed at the deadline.

A thread cannot be stopped from outside, so a step with ``timeout=`` runs in a
child process forked from the one that would have run it (the caller's process
under the ``local`` executor, the pool worker or Ray worker otherwise). The child
inherits the loaded inputs without copying, runs the function in its own process
group, and sends back the return value with what it printed. At the deadline the
parent kills the whole group (``SIGKILL``), so a step stuck in C code, in
``time.sleep`` or in a subprocess it started stops too.

The child opens its own workspace (inherited database connections are never
shared across a fork), so ``kiln.log_metric`` in a timed step lands on its step
run as usual.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from kiln.exceptions import StepTimeoutError
from kiln.lineage import _produced, note_output

#: Marks a step run whose attempt was killed at its deadline.
TIMED_OUT_TAG = "kiln.timed_out"


def can_fork() -> bool:
    """Whether this platform can fork (POSIX); elsewhere timeouts only stop waiting."""
    return "fork" in multiprocessing.get_all_start_methods()


def call_with_deadline(fn: Callable[..., Any], args: Any, kwargs: Any, timeout: float,
                       node_id: str) -> Any:
    """``fn(*args, **kwargs)`` in a forked child, killed after ``timeout`` seconds.

    Raises :class:`~kiln.exceptions.StepTimeoutError` when the deadline passes, and
    re-raises the step's own exception otherwise."""
    if not can_fork():  # pragma: no cover - Windows
        return _call_in_thread(fn, args, kwargs, timeout, node_id)
    import cloudpickle

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs), daemon=True,
                       name=f"kiln-step-{node_id}")
    deadline = time.monotonic() + timeout
    proc.start()
    send.close()
    try:
        ready = receive.poll(max(0.0, deadline - time.monotonic()))
        if not ready:
            _kill(proc)
            raise StepTimeoutError(f"step {node_id!r} timed out: it ran longer than its "
                                   f"timeout of {timeout:g}s and its process was killed")
        try:
            kind, payload, logs, produced = receive.recv()
        except EOFError:
            proc.join()
            raise RuntimeError(f"step {node_id!r}: its process exited with code "
                               f"{proc.exitcode} before returning") from None
    finally:
        receive.close()
    proc.join()
    if logs:
        sys.stdout.write(logs)
    for kind_, object_id in produced:  # model versions the step registered over there
        note_output(kind_, object_id)
    if kind == "ok":
        return cloudpickle.loads(payload)
    raise cloudpickle.loads(payload)


def _kill(proc: Any) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the step and whatever it started
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.join()


def _child(send: Any, fn: Callable[..., Any], args: Any, kwargs: Any) -> None:
    """In the forked child: run, send ``(kind, pickled value or error, logs)``, exit."""
    import cloudpickle

    os.setpgid(0, 0)
    out = io.StringIO()
    sys.stdout = sys.stderr = out
    _redirect_log_handlers(out)
    ws = _fresh_workspace()
    try:
        try:
            message = ("ok", cloudpickle.dumps(fn(*args, **kwargs)))
        except BaseException as exc:
            traceback.print_exc(file=out)
            try:
                message = ("error", cloudpickle.dumps(exc))
            except Exception:
                message = ("error", cloudpickle.dumps(RuntimeError(f"{type(exc).__name__}: "
                                                                   f"{exc}")))
        if ws is not None:
            ws.flush()
        send.send((*message, out.getvalue(), list(_produced.get() or [])))
        send.close()
    finally:
        os._exit(0)  # no inherited finalizers (database connections, atexit hooks)


def _redirect_log_handlers(out: io.StringIO) -> None:
    import logging

    from kiln.pipelines.worker import _BufferHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, _BufferHandler):
            handler.buffer = out


def _fresh_workspace() -> Any:
    """Re-open the active workspace and step run on connections of this process."""
    from kiln import fluent

    ws = fluent._context_workspace.get()
    if ws is None:
        return None
    from kiln.workspace import Workspace

    fresh = Workspace(settings=ws.settings)
    fluent._context_workspace.set(fresh)
    fluent._active_runs.set(tuple(fluent.ActiveRun(a.run, fresh)
                                  for a in fluent._active_runs.get()))
    return fresh


def _call_in_thread(fn: Callable[..., Any], args: Any, kwargs: Any, timeout: float,
                    node_id: str) -> Any:  # pragma: no cover - platforms without fork
    import contextvars
    import threading

    box: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = ctx.run(fn, *args, **kwargs)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name=f"kiln-step-{node_id}")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise StepTimeoutError(f"step {node_id!r} timed out: it ran longer than its timeout "
                               f"of {timeout:g}s (this platform cannot fork: the call was "
                               "abandoned, not stopped)")
    if "error" in box:
        raise box["error"]
    return box.get("value")
