"""Experiment tracking on an explicit Workspace: the methods behind ``kiln.start_run``."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.core import WorkspaceCore
from kiln.entities import Experiment, Metric, Run, RunArtifact, RunStatus
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.tracking import validation as check

if TYPE_CHECKING:
    import pandas as pd

    from kiln.tracking.buffer import MetricBuffer

MAX_SEARCH_RESULTS = 1_000_000


class TrackingClient(WorkspaceCore):
    """Runs, params, metrics, tags and artifacts, with run ids passed explicitly."""

    _buffer: MetricBuffer | None = None
    _checked_keys: set[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checked_keys = set()

    @property
    def metric_buffer(self) -> MetricBuffer:
        if self._buffer is None:
            from kiln.tracking.buffer import MetricBuffer

            self._buffer = MetricBuffer(self.store, self.settings.metric_flush_interval)
        return self._buffer

    def flush(self) -> None:
        """Write every buffered metric point now."""
        if self._buffer is not None:
            self._buffer.flush()

    def close(self) -> None:
        if self._buffer is not None:
            self._buffer.close()
        super().close()

    # -- experiments and runs ---------------------------------------------------------
    def get_experiment(self, name: str) -> Experiment:
        return self.store.get_experiment(name)

    def list_experiments(self) -> list[Experiment]:
        return self.store.list_experiments()

    def create_run(
        self,
        experiment: str = "default",
        name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        *,
        parent_run_id: str | None = None,
    ) -> Run:
        """Start a run (status RUNNING) recording git, Python, packages, host and user."""
        from kiln.tracking.environment import run_context_tags

        if not isinstance(experiment, str) or not experiment.strip():
            raise InvalidArgumentError(f"experiment {experiment!r} is not accepted; give a name")
        exp = self.store.get_or_create_experiment(experiment)
        all_tags = run_context_tags(self.user)
        all_tags.update(check.tags(tags or {}))
        start = now_ms()
        run_name = name or f"run-{start}"
        return self.store.create_run(
            exp.experiment_id, run_name, self.user, start, all_tags, parent_run_id
        )

    def get_run(self, run_id: str) -> Run:
        self.flush()
        return self.store.get_run(run_id)

    def end_run(
        self, run_id: str, status: RunStatus | str = RunStatus.FINISHED, error: str | None = None
    ) -> None:
        """Write the run's buffered metrics, then mark it ended with ``status``."""
        parsed = RunStatus.parse(status)
        if parsed is RunStatus.RUNNING:
            raise InvalidArgumentError("status 'RUNNING' does not end a run; use FINISHED, "
                                       "FAILED or KILLED")
        # Buffered points go in the same transaction as the status change.
        pending = self._buffer.take() if self._buffer is not None else []
        try:
            self.store.end_run(run_id, parsed, now_ms(), error, pending)
        except BaseException:
            if self._buffer is not None:
                self._buffer.restore(pending)
            raise

    # -- logging ----------------------------------------------------------------------
    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self.store.log_batch(run_id, params=check.params({key: value}))

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        self.store.log_batch(run_id, params=check.params(params))

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.store.log_batch(run_id, tags=check.tags({key: value}))

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        self.store.log_batch(run_id, tags=check.tags(tags))

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Queue one point; it is written within ``metric_flush_interval`` seconds."""
        # The hot path: plain floats, ints and known keys skip the general checks.
        if key not in self._checked_keys:
            check.key("metric", key)
            self._checked_keys.add(key)
        if type(value) is not float:
            value = check.metric_value(key, value)
        if type(step) is not int:
            step = check.step(key, step)
        self.metric_buffer.add(run_id, key, value, step, timestamp or now_ms())

    def log_metrics(
        self, run_id: str, metrics: Mapping[str, float], step: int | None = None
    ) -> None:
        ts = now_ms()
        points = [
            Metric(check.key("metric", k), check.metric_value(k, v), check.step(k, step), ts)
            for k, v in metrics.items()
        ]
        self.metric_buffer.extend(run_id, points)

    def log_batch(
        self,
        run_id: str,
        metrics: Mapping[str, float] | Sequence[Metric] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        step: int | None = None,
    ) -> None:
        """Write metrics, params and tags in one transaction, now (not buffered)."""
        ts = now_ms()
        points: list[Metric] = []
        if isinstance(metrics, Mapping):
            points = [
                Metric(check.key("metric", k), check.metric_value(k, v), check.step(k, step), ts)
                for k, v in metrics.items()
            ]
        elif metrics:
            points = [
                Metric(
                    check.key("metric", m.key),
                    check.metric_value(m.key, m.value),
                    check.step(m.key, m.step),
                    m.timestamp,
                )
                for m in metrics
            ]
        self.store.log_batch(
            run_id, points, check.params(params or {}), check.tags(tags or {})
        )

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every logged point of ``key`` in ``run_id``, by step."""
        self.flush()
        return self.store.get_metric_history(run_id, key)

    # -- artifacts --------------------------------------------------------------------
    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[RunArtifact]:
        """Store a file (or every file of a folder) by content and record it on the run."""
        src = Path(local_path)
        if not src.exists():
            raise NotFoundError(f"cannot log artifact {str(src)!r}: no such file or folder")
        files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
        base = src.parent if src.is_file() else src
        prefix = (artifact_path.strip("/") + "/") if artifact_path else ""
        if src.is_dir() and not artifact_path:
            prefix = src.name + "/"
        logged = []
        for path in files:
            obj = self.artifacts.put_file(path)
            record = RunArtifact(run_id, prefix + path.relative_to(base).as_posix(), obj.sha256,
                                 obj.size)
            self.store.log_artifact(record)
            logged.append(record)
        return logged

    def log_text(self, run_id: str, text: str, artifact_path: str) -> RunArtifact:
        """Store ``text`` as the artifact ``artifact_path`` of the run."""
        obj = self.artifacts.put_bytes(text.encode())
        record = RunArtifact(run_id, artifact_path, obj.sha256, obj.size)
        self.store.log_artifact(record)
        return record

    def list_artifacts(self, run_id: str) -> list[RunArtifact]:
        return self.store.list_artifacts(run_id)

    def download_artifact(self, run_id: str, path: str, dest: str | os.PathLike[str]) -> Path:
        """Copy the run's artifact ``path`` (a file or a folder prefix) under ``dest``."""
        arts = self.store.list_artifacts(run_id)
        wanted = [a for a in arts if a.path == path or a.path.startswith(path.rstrip("/") + "/")]
        if not wanted:
            known = ", ".join(repr(a.path) for a in arts[:10]) or "none"
            raise NotFoundError(f"run {run_id} has no artifact {path!r}; artifacts: {known}")
        dest = Path(dest)
        for art in wanted:
            self.artifacts.get_file(art.sha256, dest / art.path)
        return dest / path

    # -- search -----------------------------------------------------------------------
    def search_runs(
        self,
        experiment: str | Sequence[str] | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        max_results: int = 1000,
        *,
        parent_run_id: str | None = None,
    ) -> pd.DataFrame:
        """Runs as a DataFrame with MLflow's columns (``metrics.<k>`` holds the latest value)."""
        from kiln.tracking.frame import runs_frame

        return runs_frame(
            self.search_run_objects(experiment, filter, order_by, max_results,
                                    parent_run_id=parent_run_id)
        )

    def search_run_objects(
        self,
        experiment: str | Sequence[str] | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        max_results: int = 1000,
        *,
        parent_run_id: str | None = None,
    ) -> list[Run]:
        """Like :meth:`search_runs`, returning :class:`~kiln.entities.Run` records."""
        from kiln.metadata.base import RunQuery
        from kiln.metadata.filters import parse_filter, parse_order_by

        if isinstance(max_results, bool) or not isinstance(max_results, int) or not (
            0 < max_results <= MAX_SEARCH_RESULTS
        ):
            raise InvalidArgumentError(
                f"max_results={max_results!r} is not accepted; use 1..{MAX_SEARCH_RESULTS}"
            )
        exp_ids = None
        if experiment is not None:
            names = [experiment] if isinstance(experiment, str) else list(experiment)
            exp_ids = [self.store.get_experiment(n).experiment_id for n in names]
        query = RunQuery(
            experiment_ids=exp_ids,
            clauses=parse_filter(filter),
            order_by=parse_order_by(list(order_by) if order_by is not None
                                    and not isinstance(order_by, str) else order_by),
            max_results=max_results,
            parent_run_id=parent_run_id,
        )
        self.flush()
        return self.store.search_runs(query)
