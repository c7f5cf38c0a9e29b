"""``ExecutorSuite``: the behaviour every pipeline executor must show.

Subclass it and give it an ``executor`` fixture; every test runs the example
pipelines of :mod:`kiln.testing.pipeline_examples` on it and compares outputs
and lineage with the in-process executor.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiln.entities import RunStatus
from kiln.pipelines.executors.base import Executor
from kiln.pipelines.runner import PipelineRun, resume, run_pipeline, step_runs
from kiln.settings import Settings
from kiln.testing import pipeline_examples as ex
from kiln.workspace import Workspace


def _workspace(home: Path) -> Workspace:
    return Workspace(settings=Settings(home=home))


def lineage(result: PipelineRun) -> dict[str, tuple[list[str], list[str]]]:
    """Per step: the sha256 of its inputs and of its outputs, from the lineage edges."""
    store = result.workspace.store
    found: dict[str, tuple[list[str], list[str]]] = {}
    for node_id, record in result.steps.items():
        assert record.run_id is not None
        ins = sorted(e.src_id for e in store.edges_to("run", record.run_id))
        outs = [e.dst_id for e in store.edges_from("run", record.run_id)]
        found[node_id] = (ins, outs)
    return found


class ExecutorSuite:
    """Conformance tests for :class:`kiln.pipelines.executors.base.Executor`."""

    @pytest.fixture
    def executor(self) -> Executor:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide an `executor` fixture")

    @pytest.fixture
    def pipeline_ws(self, tmp_path: Path) -> Iterator[Workspace]:
        ws = _workspace(tmp_path / "suite")
        yield ws
        ws.close()

    def test_outputs_and_lineage_match_the_local_executor(
        self, executor: Executor, pipeline_ws: Workspace, tmp_path: Path
    ) -> None:
        result = run_pipeline(ex.conformance, {"n": 100}, executor=executor,
                              workspace=pipeline_ws)
        assert result.ok, result.error
        assert set(result.executed_steps) == {"make", "halves", "total", "total_2", "total_3",
                                              "combine", "array_kind", "frame", "frame_sum"}
        assert result.output("combine") == {"sum": float(sum(range(50)) * 3 + sum(range(50,
                                                                                   100))),
                                            "n": 3.0}
        assert result.output("frame_sum") == sum(i * i for i in range(100))
        reference_ws = _workspace(tmp_path / "reference")
        try:
            reference = run_pipeline(ex.conformance, {"n": 100}, executor="local",
                                     workspace=reference_ws)
            assert lineage(result) == lineage(reference)
        finally:
            reference_ws.close()

    def test_arrays_reach_steps_memory_mapped(self, executor: Executor,
                                              pipeline_ws: Workspace) -> None:
        result = run_pipeline(ex.conformance, {"n": 10}, executor=executor,
                              workspace=pipeline_ws)
        assert result.output("array_kind") == "memmap"

    def test_a_second_run_is_served_from_the_cache(self, executor: Executor,
                                                   pipeline_ws: Workspace) -> None:
        first = run_pipeline(ex.conformance, {"n": 20}, executor=executor, workspace=pipeline_ws)
        again = run_pipeline(ex.conformance, {"n": 20}, executor=executor, workspace=pipeline_ws)
        assert again.ok and again.executed_steps == []
        assert lineage(first) == lineage(again)
        changed = run_pipeline(ex.conformance, {"n": 20, "scale": 3.0}, executor=executor,
                               workspace=pipeline_ws)
        assert changed.executed_steps == ["total_2", "combine"]

    def test_metrics_and_logs_land_on_the_step_run(self, executor: Executor,
                                                   pipeline_ws: Workspace) -> None:
        result = run_pipeline(ex.conformance, {"n": 10}, executor=executor,
                              workspace=pipeline_ws)
        record = result.steps["total"]
        assert record.run_id is not None
        run = pipeline_ws.get_run(record.run_id)
        assert run.parent_run_id == result.run_id
        assert run.metrics["total"] == float(sum(range(5)))
        logs = {a.path: a for a in pipeline_ws.list_artifacts(record.run_id)}
        assert "total of 5 values" in pipeline_ws.artifacts.get_bytes(
            logs["logs.txt"].sha256).decode()

    def test_a_failed_branch_stops_its_dependants_only_and_resume_continues(
        self, executor: Executor, pipeline_ws: Workspace, tmp_path: Path
    ) -> None:
        marker = tmp_path / "marker"
        failed = run_pipeline(ex.branches, {"marker": str(marker)}, executor=executor,
                              workspace=pipeline_ws)
        status = {n: s.status for n, s in failed.steps.items()}
        assert status == {"gate": "FAILED", "after_gate": "SKIPPED", "independent": "FINISHED"}
        assert failed.status is RunStatus.FAILED and "marker file" in (failed.error or "")
        marker.write_text("ok")
        resumed = resume(failed.run_id, executor=executor, workspace=pipeline_ws)
        assert resumed.ok
        assert resumed.cached_steps == ["independent"]
        assert sorted(resumed.executed_steps) == ["after_gate", "gate"]
        assert resumed.output("after_gate") == 2

    def test_retries_with_backoff(self, executor: Executor, pipeline_ws: Workspace,
                                  tmp_path: Path) -> None:
        result = run_pipeline(ex.retrying, {"counter": str(tmp_path / "count")},
                              executor=executor, workspace=pipeline_ws)
        assert result.ok and result.output("flaky") == 3
        assert result.steps["flaky"].attempts == 3

    def test_timeouts_stop_the_step(self, executor: Executor, pipeline_ws: Workspace,
                                    tmp_path: Path) -> None:
        pid_file = tmp_path / "slow.pid"
        started = time.monotonic()
        result = run_pipeline(ex.timing_out, {"seconds": 60.0, "pid_file": str(pid_file)},
                              executor=executor, workspace=pipeline_ws)
        assert time.monotonic() - started < 30  # not the 60 s the step wanted to sleep
        assert not result.ok and result.steps["slow"].timed_out
        assert "timed out" in (result.steps["slow"].error or "")
        pid = int(pid_file.read_text())
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), f"the timed-out step's process {pid} still runs"
        run = pipeline_ws.get_run(result.steps["slow"].run_id or "")
        assert run.status is RunStatus.FAILED
        assert run.tags["kiln.timed_out"] == "true" and run.tags["kiln.timeout"] == "0.5s"

    def test_a_timed_step_returns_its_value_and_logs(self, executor: Executor,
                                                     pipeline_ws: Workspace) -> None:
        result = run_pipeline(ex.timing_out, {"seconds": 0.01}, executor=executor,
                              workspace=pipeline_ws)
        assert result.ok and result.output("slow") == 0.01
        assert not result.steps["slow"].timed_out

    def test_step_runs_are_recorded(self, executor: Executor, pipeline_ws: Workspace) -> None:
        result = run_pipeline(ex.branches, {"marker": __file__}, executor=executor,
                              workspace=pipeline_ws)
        runs = step_runs(pipeline_ws, result.run_id)
        assert sorted(r.name for r in runs) == ["after_gate", "gate", "independent"]
        assert all(r.status is RunStatus.FINISHED and r.end_time for r in runs)
        assert all(r.tags["kiln.type"] == "step" for r in runs)
        parent: Any = pipeline_ws.get_run(result.run_id)
        assert parent.tags["kiln.executor"] == executor.name


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie counts as stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
