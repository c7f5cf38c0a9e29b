"""Running a pipeline: cache lookups, submission of ready steps, and the record of it all.

The pipeline run is a tracked run; each step call is a child run with its
status, timings, parameters, captured logs (artifact ``logs.txt``), outputs
(artifacts ``outputs/<i>.<materializer>``) and lineage edges (input artifact
-> step run -> output artifact). All metadata writes happen here, in the
process that runs the pipeline; workers only run code and store artifacts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import (
    CacheEntry,
    DatasetVersion,
    LineageEdge,
    OutputRef,
    Run,
    RunArtifact,
    RunStatus,
    StepRunWrite,
)
from kiln.exceptions import PipelineError
from kiln.pipelines.deadline import TIMED_OUT_TAG
from kiln.pipelines.graph import Graph, Node, Output, outputs_in, substitute
from kiln.pipelines.hashing import cache_key, canonical, code_hash
from kiln.pipelines.materializers import _json_like, load_output, store_output
from kiln.pipelines.worker import StepResult, StepTask

if TYPE_CHECKING:
    from kiln.pipelines.dsl import Pipeline
    from kiln.pipelines.executors.base import Executor
    from kiln.workspace import Workspace

PIPELINE_TAG = "kiln.type"
DATASET_KIND = "dataset_version"
MAX_PARAM = 6000
Event = Callable[[str, "StepRecord"], None]


@dataclass
class StepRecord:
    """One step call of a run: ``status`` is FINISHED, FAILED, SKIPPED or PENDING."""

    node_id: str
    run_id: str | None = None
    status: str = "PENDING"
    cached: bool = False
    cache_key: str = ""
    outputs: list[OutputRef] = field(default_factory=list)
    start_time: int = 0
    end_time: int = 0
    error: str | None = None
    attempts: int = 0
    timed_out: bool = False
    produced: list[tuple[str, str]] = field(default_factory=list)

    @property
    def duration_ms(self) -> int:
        return max(0, self.end_time - self.start_time) if self.end_time else 0


@dataclass
class PipelineRun:
    """The outcome of a run: the tracked run's id, its status and each step's record."""

    run_id: str
    pipeline: str
    status: RunStatus
    steps: dict[str, StepRecord]
    workspace: Workspace
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.FINISHED

    @property
    def cached_steps(self) -> list[str]:
        return [n for n, s in self.steps.items() if s.cached]

    @property
    def produced(self) -> list[tuple[str, str]]:
        """``(kind, id)`` of what the steps registered, e.g. ``("model_version", "clf/3")``."""
        return [p for s in self.steps.values() for p in s.produced]

    @property
    def datasets(self) -> dict[str, str]:
        """Parameters that named datasets, with the versions they resolved to."""
        run = self.workspace.get_run(self.run_id)
        return {k[len("kiln.dataset."):]: v for k, v in run.tags.items()
                if k.startswith("kiln.dataset.")}

    @property
    def executed_steps(self) -> list[str]:
        return [n for n, s in self.steps.items() if s.status == "FINISHED" and not s.cached]

    def output(self, node_id: str, index: int = 0) -> Any:
        """Load output ``index`` of step ``node_id`` from the artifact store."""
        record = self.steps.get(node_id)
        if record is None or not record.outputs:
            raise PipelineError(f"step {node_id!r} of run {self.run_id} has no stored output")
        return load_output(record.outputs[index], self.workspace.artifacts)

    def raise_for_status(self) -> PipelineRun:
        """Raise :class:`~kiln.exceptions.PipelineError` when the run failed."""
        if not self.ok:
            raise PipelineError(self.error or f"pipeline run {self.run_id} failed")
        return self


def run_pipeline(
    pipe: Pipeline,
    params: Mapping[str, Any] | None = None,
    *,
    executor: str | Executor | None = "local",
    cache: bool | None = None,
    workspace: Workspace | None = None,
    only: list[str] | None = None,
    resume_keys: set[str] | None = None,
    tags: Mapping[str, str] | None = None,
    on_event: Event | None = None,
) -> PipelineRun:
    """Build, check and run ``pipe``. Every bad input is reported before anything runs.

    ``only`` runs those steps and what they depend on; ``resume_keys`` are cache
    keys that count as hits even where caching is off (``kiln pipeline resume``).
    """
    from kiln.fluent import get_workspace
    from kiln.pipelines.executors import get_executor

    ws = workspace or get_workspace()
    given = pipe.resolve_params(dict(params or {}))
    datasets = dataset_params(ws, given)
    graph = pipe.build(**{**given, **{k: dv.ref for k, dv in datasets.items()}})
    order = graph.validate()
    if only:
        wanted = graph.ancestors(only)
        order = [n for n in order if n in wanted]
    ex = get_executor(executor)
    use_cache = pipe.cache if cache is None else cache
    run_tags = {PIPELINE_TAG: "pipeline", "kiln.pipeline": pipe.name,
                "kiln.pipeline.ref": pipe.ref, "kiln.executor": ex.name,
                "kiln.cache": str(use_cache).lower(),
                "kiln.pipeline.params": canonical(graph.params), **(tags or {})}
    run_tags.update({f"kiln.dataset.{k}": dv.ref for k, dv in datasets.items()})
    run = ws.create_run(pipe.experiment, pipe.name, run_tags)
    ws.store.log_batch(run.run_id, params={k: _param_text(v) for k, v in given.items()})
    if datasets:  # the versions the references resolved to are inputs of the run
        ws.store.add_edges([LineageEdge(DATASET_KIND, dv.ref, "run", run.run_id, "input",
                                        run.start_time) for dv in datasets.values()])
    runner = _Runner(ws, graph, run, ex, use_cache, resume_keys or set(), on_event)
    runner.datasets = {dv.ref for dv in datasets.values()}
    try:
        runner.run(order)
    except BaseException as exc:
        ws.end_run(run.run_id, RunStatus.KILLED if isinstance(exc, KeyboardInterrupt)
                   else RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        ex.close()
    failed = [r for r in runner.records.values() if r.status == "FAILED"]
    status = RunStatus.FAILED if failed else RunStatus.FINISHED
    error = "; ".join(r.error or r.node_id for r in failed) or None
    ws.end_run(run.run_id, status, error)
    return PipelineRun(run.run_id, pipe.name, status, runner.records, ws, error)


class _Runner:
    """Walks the graph. Metadata is written in batches: the writes gathered while no step
    is running (finished, cached, skipped and newly started step runs) go in one
    transaction just before the runner submits work or waits for it."""

    def __init__(self, ws: Workspace, graph: Graph, run: Run, executor: Executor,
                 use_cache: bool, resume_keys: set[str], on_event: Event | None) -> None:
        self.ws = ws
        self.graph = graph
        self.run_ = run
        self.executor = executor
        self.use_cache = use_cache
        self.resume_keys = resume_keys
        self.on_event = on_event
        self.records: dict[str, StepRecord] = {}
        self.inputs: dict[str, list[OutputRef]] = {}
        self.params: dict[str, dict[str, str]] = {}
        self.writes: list[StepRunWrite] = []
        self.events: list[tuple[str, StepRecord]] = []
        self.structural: dict[str, str] = {}
        self.prefetched: dict[str, CacheEntry] = {}
        self.structural_hits: set[str] = set()
        self.datasets: set[str] = set()

    def run(self, order: list[str]) -> None:
        self.records = {n: StepRecord(n) for n in order}
        if self.use_cache:  # one query for every step whose whole history can be cached
            self.structural = structural_keys(self.graph, order)
            self.prefetched = self.ws.store.get_cached_many(list(self.structural.values()))
        pending = list(order)
        running: dict[Future[StepResult], str] = {}
        try:
            while pending or running:
                to_submit: list[StepTask] = []
                progressed = True
                while progressed:
                    progressed = False
                    for node_id in list(pending):
                        if self._blocked(node_id):
                            pending.remove(node_id)
                            self._skip(node_id)
                            progressed = True
                        elif self._ready(node_id):
                            pending.remove(node_id)
                            task = self._start(node_id)
                            if task is not None:
                                to_submit.append(task)
                            progressed = True
                self._flush()
                for task in to_submit:
                    running[self.executor.submit(task, self.ws)] = task.node_id
                if not running:
                    if pending:  # cannot happen in a validated DAG: nothing can ever run
                        for node_id in pending:
                            self._skip(node_id)
                        pending.clear()
                    continue
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    node_id = running.pop(future)
                    try:
                        result = future.result()
                    except Exception as exc:  # the executor itself failed (worker died...)
                        result = StepResult(node_id, ok=False,
                                            error=f"step {node_id!r}: executor "
                                                  f"{self.executor.name!r} failed: "
                                                  f"{type(exc).__name__}: {exc}")
                    self._finish(node_id, result)
        finally:
            self._flush()

    def _flush(self) -> None:
        if self.writes:
            self.ws.store.write_step_runs(self.run_.experiment_id, self.run_.run_id,
                                          self.ws.user, self.writes)
            self.writes = []
        events, self.events = self.events, []
        if self.on_event is not None:
            for kind, record in events:
                self.on_event(kind, record)

    def _ready(self, node_id: str) -> bool:
        return all(self.records[u].status == "FINISHED"
                   for u in self.graph.nodes[node_id].upstream)

    def _blocked(self, node_id: str) -> bool:
        return any(self.records[u].status in ("FAILED", "SKIPPED")
                   for u in self.graph.nodes[node_id].upstream)

    def _tags(self, node: Node, **extra: str) -> dict[str, str]:
        return {PIPELINE_TAG: "step", "kiln.step": node.step.name,
                "kiln.upstream": ",".join(node.upstream), **extra}

    def _start(self, node_id: str) -> StepTask | None:
        node = self.graph.nodes[node_id]
        record = self.records[node_id]
        args, kwargs, key_params, inputs = self._resolve(node)
        step = node.step
        key = cache_key(code_hash(step.fn), key_params, [r.sha256 for r in inputs],
                        step.n_outputs)
        record.cache_key = key
        record.run_id = uuid.uuid4().hex
        record.start_time = now_ms()
        self.inputs[node_id] = inputs
        skey = self.structural.get(node_id)
        if (self.use_cache and step.cache) or key in self.resume_keys:
            entry = None
            if skey is not None and all(u in self.structural_hits for u in node.upstream):
                entry = self.prefetched.get(skey)
            structural = entry is not None
            if entry is None:
                entry = self.ws.store.get_cached(key)
            if entry is not None and all(self.ws.artifacts.exists(o.sha256)
                                         for o in entry.outputs):
                if structural:
                    self.structural_hits.add(node_id)
                more = [] if structural or skey is None else [
                    CacheEntry(skey, entry.step_run_id, entry.outputs, entry.created_at)]
                record.cached, record.outputs = True, list(entry.outputs)
                record.end_time, record.status = record.start_time, "FINISHED"
                self.writes.append(StepRunWrite(
                    record.run_id, True, node_id, RunStatus.FINISHED, record.start_time,
                    record.end_time, params=self.params[node_id],
                    tags=self._tags(node, **{"kiln.cache_key": key, "kiln.cached": "true",
                                             "kiln.cached_from": entry.step_run_id}),
                    artifacts=self._artifacts(record.run_id, record.outputs, None),
                    edges=self._edges(record.run_id, node_id, record.outputs,
                                      record.end_time), more_caches=more))
                self.events.append(("cached", record))
                return None
        record.status = "RUNNING"
        self.writes.append(StepRunWrite(record.run_id, True, node_id, RunStatus.RUNNING,
                                        record.start_time,
                                        tags=self._tags(node, **{"kiln.cache_key": key})))
        self.events.append(("started", record))
        child = Run(record.run_id, self.run_.experiment_id, self.run_.experiment, node_id,
                    RunStatus.RUNNING, record.start_time, None, self.ws.user,
                    self.run_.run_id)
        return StepTask(node_id, step.fn, child, args, kwargs, step.n_outputs, step.retries,
                        step.timeout, step.backoff)

    def _resolve(self, node: Node) -> tuple[Any, Any, dict[str, Any], list[OutputRef]]:
        """Arguments with placeholders (and non-JSON literals) as refs; hashable params."""
        inputs: list[OutputRef] = []
        params: dict[str, str] = {}

        def ref_of(out: Output) -> OutputRef:
            ref = self.records[out.node_id].outputs[out.index]
            inputs.append(ref)
            return ref

        bound = node.step.signature.bind_partial(*node.args, **node.kwargs)
        key_params: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            if outputs_in(value):
                resolved = substitute(value, ref_of)
                key_params[name] = substitute(resolved, _ref_marker, OutputRef)
                bound.arguments[name] = resolved
            elif _json_like(value, 0):
                key_params[name] = value
                params[name] = _param_text(value)
            else:
                ref = store_output(value, self.ws.artifacts)
                inputs.append(ref)
                key_params[name] = {"$ref": ref.sha256}
                bound.arguments[name] = ref
        self.params[node.node_id] = params
        return bound.args, bound.kwargs, key_params, inputs

    def _finish(self, node_id: str, result: StepResult) -> None:
        record = self.records[node_id]
        assert record.run_id is not None
        record.end_time = result.end_time or now_ms()
        record.attempts = result.attempts
        record.timed_out = result.timed_out and not result.ok
        tags = {"kiln.cached": "false", "kiln.attempts": str(result.attempts)}
        timeout = self.graph.nodes[node_id].step.timeout
        if timeout is not None:
            tags["kiln.timeout"] = f"{timeout:g}s"
        if result.timed_out and not result.ok:
            tags[TIMED_OUT_TAG] = "true"
        if result.ok:
            record.outputs = result.outputs
            record.produced = list(result.produced)
            record.status = "FINISHED"
            entry = CacheEntry(record.cache_key, record.run_id, tuple(result.outputs),
                               record.end_time)
            skey = self.structural.get(node_id)
            more = [] if skey is None else [CacheEntry(skey, record.run_id,
                                                       tuple(result.outputs), record.end_time)]
            self.writes.append(StepRunWrite(
                record.run_id, False, node_id, RunStatus.FINISHED, record.start_time,
                record.end_time, params=self.params[node_id], tags=tags,
                artifacts=self._artifacts(record.run_id, result.outputs, result.logs),
                edges=self._edges(record.run_id, node_id, result.outputs, record.end_time)
                + [LineageEdge("run", self.run_.run_id, kind, object_id, "produced",
                               record.end_time) for kind, object_id in record.produced],
                cache=entry, more_caches=more))
            self.events.append(("finished", record))
        else:
            record.status = "FAILED"
            record.error = result.error or f"step {node_id!r} failed"
            self.writes.append(StepRunWrite(
                record.run_id, False, node_id, RunStatus.FAILED, record.start_time,
                record.end_time, record.error, params=self.params[node_id], tags=tags,
                artifacts=self._artifacts(record.run_id, [], result.logs),
                edges=self._edges(record.run_id, node_id, [], record.end_time)))
            self.events.append(("failed", record))

    def _skip(self, node_id: str) -> None:
        record = self.records[node_id]
        node = self.graph.nodes[node_id]
        failed = [u for u in node.upstream if self.records[u].status in ("FAILED", "SKIPPED")]
        now = now_ms()
        record.error = f"skipped: upstream step {failed[0]!r} did not finish" if failed \
            else "skipped"
        record.run_id, record.status, record.start_time = uuid.uuid4().hex, "SKIPPED", now
        self.writes.append(StepRunWrite(record.run_id, True, node_id, RunStatus.KILLED, now,
                                        now, record.error,
                                        tags=self._tags(node, **{"kiln.skipped": "true"})))
        self.events.append(("skipped", record))

    def _artifacts(self, run_id: str, outputs: list[OutputRef], logs: OutputRef | None
                   ) -> list[RunArtifact]:
        arts = [RunArtifact(run_id, f"outputs/{i}.{o.materializer}", o.sha256, o.size)
                for i, o in enumerate(outputs)]
        if logs is not None:
            arts.append(RunArtifact(run_id, "logs.txt", logs.sha256, logs.size))
        return arts

    def _edges(self, run_id: str, node_id: str, outputs: list[OutputRef], at: int
               ) -> list[LineageEdge]:
        edges = [LineageEdge("artifact", ref.sha256, "run", run_id, "input", at)
                 for ref in self.inputs.get(node_id, [])]
        if self.datasets:  # the step took a resolved dataset reference as a parameter
            edges += [LineageEdge(DATASET_KIND, v, "run", run_id, "input", at)
                      for v in self.params.get(node_id, {}).values() if v in self.datasets]
        edges += [LineageEdge("run", run_id, "artifact", o.sha256, "produced", at)
                  for o in outputs]
        return edges


def dataset_params(ws: Workspace, params: Mapping[str, Any]) -> dict[str, DatasetVersion]:
    """Parameters whose value is a dataset reference with a version part (``churn@latest``,
    ``churn@3``) naming an existing dataset, resolved to that version. Steps then get the
    pinned reference (``churn@3``), so a new version of the data changes their cache keys."""
    from kiln.data.refs import parse_ref
    from kiln.exceptions import KilnError

    found: dict[str, DatasetVersion] = {}
    for key, value in params.items():
        if not isinstance(value, str) or "@" not in value:
            continue
        try:
            parse_ref(value)
            found[key] = ws.dataset_version(value)
        except KilnError:  # not a reference, or no such dataset: an ordinary string
            continue
    return found


def structural_keys(graph: Graph, order: list[str]) -> dict[str, str]:
    """Cache keys computable before anything runs: a step's code and parameters and its
    upstream steps' structural keys. A step has one only when it and every step before
    it are cacheable and take JSON-like literals; these keys let one query fetch a whole
    pipeline's cache entries. A structural entry is only used when every upstream step
    was itself served by its structural entry, so a re-run upstream step (whose outputs
    may differ) sends its dependants back to the content-hash keys."""
    keys: dict[str, str] = {}
    for node_id in order:
        node = graph.nodes[node_id]
        step = node.step
        if not step.cache or any(u not in keys for u in node.upstream):
            continue
        bound = step.signature.bind_partial(*node.args, **node.kwargs)
        params: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            if outputs_in(value):
                params[name] = substitute(value, lambda o: {"$step": keys[o.node_id],
                                                            "$index": o.index})
            elif _json_like(value, 0):
                params[name] = value
            else:
                break
        else:
            keys[node_id] = cache_key(code_hash(step.fn), {"$structural": params}, [],
                                      step.n_outputs)
    return keys


def _ref_marker(ref: OutputRef) -> dict[str, str]:
    return {"$ref": ref.sha256}


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else canonical(value)
    return text if len(text) <= MAX_PARAM else text[:MAX_PARAM - 3] + "..."


def step_runs(ws: Workspace, run_id: str) -> list[Run]:
    """The step runs of pipeline run ``run_id``, in start order."""
    runs = ws.search_run_objects(parent_run_id=run_id, max_results=100_000,
                                 order_by=["start_time ASC"])
    return [r for r in runs if r.tags.get(PIPELINE_TAG) == "step"]


def resume(run_id: str, *, executor: str | Executor | None = None,
           workspace: Workspace | None = None, on_event: Event | None = None) -> PipelineRun:
    """Continue a failed pipeline run: its finished steps are reused, the rest run."""
    from kiln.fluent import get_workspace
    from kiln.pipelines.loader import load_pipeline

    ws = workspace or get_workspace()
    previous = ws.get_run(run_id)
    if previous.tags.get(PIPELINE_TAG) != "pipeline":
        raise PipelineError(f"run {run_id} is not a pipeline run; give a run id from "
                            "`kiln pipeline runs`")
    pipe = load_pipeline(previous.tags["kiln.pipeline.ref"])
    params = json.loads(previous.tags.get("kiln.pipeline.params", "{}"))
    keys = {r.tags["kiln.cache_key"] for r in step_runs(ws, run_id)
            if r.status is RunStatus.FINISHED and "kiln.cache_key" in r.tags}
    return run_pipeline(pipe, params, executor=executor or previous.tags.get("kiln.executor"),
                        cache=previous.tags.get("kiln.cache") != "false", workspace=ws,
                        resume_keys=keys, tags={"kiln.resumed_from": run_id},
                        on_event=on_event)
