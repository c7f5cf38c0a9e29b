"""The fluent API: MLflow's names over a default Workspace, the active run kept in contextvars.

Each thread and asyncio task sees its own active run; a run started in one
does not leak into another.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any

from kiln.entities import (
    DatasetVersion,
    Metric,
    ModelVersion,
    Run,
    RunArtifact,
    RunStatus,
    Signature,
)
from kiln.exceptions import NoActiveRunError

if TYPE_CHECKING:
    import pandas as pd

    from kiln.registry.model import LoadedModel
    from kiln.workspace import Workspace

_context_workspace: ContextVar[Workspace | None] = ContextVar("kiln_workspace", default=None)
_active_runs: ContextVar[tuple[ActiveRun, ...]] = ContextVar("kiln_active_runs", default=())
# Sees every metric point logged in this context (a sweep trial reports them to its pruner).
MetricHook = Callable[[str, float, "int | None"], None]
_metric_hook: ContextVar[MetricHook | None] = ContextVar("kiln_metric_hook", default=None)


class _ProcessDefault:
    """The workspace used when none is set in the current context (built from settings)."""

    lock = threading.Lock()
    workspace: Workspace | None = None


def get_workspace() -> Workspace:
    """The workspace fluent calls use: the context's, else the process default."""
    ws = _context_workspace.get()
    if ws is not None:
        return ws
    if _ProcessDefault.workspace is None:
        with _ProcessDefault.lock:
            if _ProcessDefault.workspace is None:
                from kiln.workspace import Workspace

                _ProcessDefault.workspace = Workspace()
    return _ProcessDefault.workspace


def set_workspace(workspace: Workspace | None) -> None:
    """Make ``workspace`` the process default (``None``: rebuild from settings on next use)."""
    with _ProcessDefault.lock:
        _ProcessDefault.workspace = workspace


@contextmanager
def use_workspace(workspace: Workspace) -> Iterator[Workspace]:
    """Use ``workspace`` for fluent calls in this context only."""
    token = _context_workspace.set(workspace)
    try:
        yield workspace
    finally:
        _context_workspace.reset(token)


class ActiveRun:
    """A started run. Use as a context manager: the run ends FINISHED, FAILED (with the
    error) when the block raises, or KILLED on Ctrl-C."""

    def __init__(self, run: Run, workspace: Workspace) -> None:
        self.run = run
        self.run_id = run.run_id
        self.workspace = workspace
        self._ended = False

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end(RunStatus.FINISHED)
        elif issubclass(exc_type, KeyboardInterrupt | SystemExit):
            self.end(RunStatus.KILLED, f"{exc_type.__name__}")
        else:
            self.end(RunStatus.FAILED, f"{exc_type.__name__}: {exc}")

    def end(self, status: RunStatus | str = RunStatus.FINISHED, error: str | None = None) -> None:
        """End the run (idempotent) and make its parent the active run again."""
        if self._ended:
            return
        self._ended = True
        stack = _active_runs.get()
        if self in stack:
            _active_runs.set(tuple(r for r in stack if r is not self))
        self.workspace.end_run(self.run_id, status, error)

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self.run_id!r}, name={self.run.name!r})"


def start_run(
    experiment: str | None = None,
    name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    *,
    workspace: Workspace | None = None,
) -> ActiveRun:
    """Start a run and make it active. Inside another active run it becomes its child.

    >>> import kiln
    >>> with kiln.use_workspace(kiln.Workspace.ephemeral()):
    ...     with kiln.start_run(experiment="demo") as run:
    ...         kiln.log_metric("auc", 0.9)
    """
    ws = workspace or get_workspace()
    stack = _active_runs.get()
    parent = stack[-1] if stack else None
    if experiment is None:
        experiment = parent.run.experiment if parent else os.environ.get("KILN_EXPERIMENT",
                                                                        "default")
    run = ws.create_run(
        experiment, name, tags, parent_run_id=parent.run_id if parent else None
    )
    active = ActiveRun(run, ws)
    _active_runs.set((*stack, active))
    return active


def active_run() -> ActiveRun | None:
    """The innermost active run of this context, if any."""
    stack = _active_runs.get()
    return stack[-1] if stack else None


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run (no-op when there is none)."""
    run = active_run()
    if run is not None:
        run.end(status)


def _require() -> ActiveRun:
    run = active_run()
    if run is None:
        raise NoActiveRunError(
            "no active run in this context; wrap the call in `with kiln.start_run(...):`"
        )
    return run


def log_param(key: str, value: Any) -> None:
    run = _require()
    run.workspace.log_param(run.run_id, key, value)


def log_params(params: Mapping[str, Any]) -> None:
    run = _require()
    run.workspace.log_params(run.run_id, params)


def set_tag(key: str, value: Any) -> None:
    run = _require()
    run.workspace.set_tag(run.run_id, key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    run = _require()
    run.workspace.set_tags(run.run_id, tags)


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """Log one point of a metric to the active run (buffered; see ``kiln.tracking.buffer``)."""
    run = _require()
    run.workspace.log_metric(run.run_id, key, value, step)
    hook = _metric_hook.get()
    if hook is not None:
        hook(key, value, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    run = _require()
    run.workspace.log_metrics(run.run_id, metrics, step)
    hook = _metric_hook.get()
    if hook is not None:
        for key, value in metrics.items():
            hook(key, value, step)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None
                 ) -> list[RunArtifact]:
    run = _require()
    return run.workspace.log_artifact(run.run_id, local_path, artifact_path)


def log_input(dataset: str | DatasetVersion) -> DatasetVersion:
    """Record that the active run read ``dataset`` (``"NAME@3"`` or a DatasetVersion);
    ``kiln.data.load`` does this by itself inside a run."""
    run = _require()
    return run.workspace.log_input(run.run_id, dataset)


def log_text(text: str, artifact_path: str) -> RunArtifact:
    run = _require()
    return run.workspace.log_text(run.run_id, text, artifact_path)


def log_model(
    model: object,
    name: str | None = None,
    *,
    input_example: Any = None,
    signature: Signature | None = None,
    flavor: str | None = None,
    artifact_path: str = "model",
) -> ModelVersion | None:
    """Save ``model`` in the active run and register it as a new version of ``name``."""
    run = _require()
    return run.workspace.log_model(
        run.run_id,
        model,
        name,
        input_example=input_example,
        signature=signature,
        flavor=flavor,
        artifact_path=artifact_path,
    )


def search_runs(
    experiment: str | Sequence[str] | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | str | None = None,
    max_results: int = 1000,
) -> pd.DataFrame:
    """Runs matching ``filter`` as a DataFrame; see :mod:`kiln.metadata.filters`."""
    return get_workspace().search_runs(experiment, filter, order_by, max_results)


def get_run(run_id: str) -> Run:
    return get_workspace().get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    return get_workspace().get_metric_history(run_id, key)


def set_alias(name: str, alias: str, version: int | str) -> None:
    get_workspace().set_alias(name, alias, version)


def delete_alias(name: str, alias: str) -> None:
    get_workspace().delete_alias(name, alias)


def get_model_version(name: str, version: int | str) -> ModelVersion:
    return get_workspace().get_model_version(name, version)


def load_model(uri: str, *, trusted: bool = False) -> LoadedModel:
    """Load ``models:/NAME@ALIAS``, ``models:/NAME/VERSION`` or ``runs:/RUN_ID/model``
    (a pickle another user wrote only with ``trusted=True``: see ``kiln.registry.trust``)."""
    return get_workspace().load_model(uri, trusted=trusted)
