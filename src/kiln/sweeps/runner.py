"""The sweep driver: asks Optuna for trials, runs each as a tracked child run on an
executor, and tells Optuna how it went.

Sampling happens here, in one process (TPE with a "constant liar" for trials still
running, so parallel trials spread out); trials run on the ``local``, ``process``
or ``ray`` executor of :mod:`kiln.pipelines.executors`. The study is kept in
kiln's database (:mod:`kiln.sweeps.storage`), so a sweep that stops resumes where
it was: running it again with the same name continues to the requested number of
trials. While a trial runs its driver writes a heartbeat; a trial whose heartbeat
stopped (its driver was killed) is failed when a driver resumes the sweep and
runs again with the same parameters.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.entities import Run, RunStatus
from kiln.exceptions import ConflictError, InvalidArgumentError

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.storages import JournalStorage
    from optuna.trial import FrozenTrial

    from kiln.pipelines.executors.base import Executor
    from kiln.pipelines.worker import StepResult
    from kiln.sweeps.report import Sweep
    from kiln.workspace import Workspace

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "asha", "none")
DIRECTIONS = ("minimize", "maximize")
EXECUTORS = ("local", "process", "ray")
CONFIG_ATTR = "kiln_config"
PARENTS_ATTR = "kiln_parent_runs"
RUN_ATTR = "kiln_run_id"
HEARTBEAT_ATTR = "kiln:heartbeat"
INTERRUPTED_ATTR = "kiln:interrupted"


@dataclass
class SweepConfig:
    """What defines a sweep; stored with its study. ``target`` (``MODULE:FUNCTION``) lets
    ``kiln sweep resume`` find the train function again."""

    name: str
    space: dict[str, str]
    metric: str = "loss"
    direction: str = "minimize"
    sampler: str = "tpe"
    pruner: str = "median"
    target: str | None = None
    experiment: str | None = None
    heartbeat: float = 30.0
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        _one_of("sampler", self.sampler, SAMPLERS)
        _one_of("pruner", self.pruner, PRUNERS)
        _one_of("direction", self.direction, DIRECTIONS)
        if not self.name or len(self.name) > 200:
            raise InvalidArgumentError(f"sweep name {self.name!r} is not accepted; "
                                       "give 1-200 characters")
        if not isinstance(self.heartbeat, int | float) or self.heartbeat <= 0:
            raise InvalidArgumentError(f"heartbeat={self.heartbeat!r} is not accepted; give a "
                                       "positive number of seconds")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepConfig:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def _one_of(what: str, value: str, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        raise InvalidArgumentError(f"{what} {value!r} is not accepted; use one of "
                                   f"{', '.join(accepted)}")


def make_sampler(name: str, space: Mapping[str, BaseDistribution], seed: int | None
                 ) -> optuna.samplers.BaseSampler:
    import optuna

    from kiln.sweeps.space import grid_values

    _one_of("sampler", name, SAMPLERS)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler(grid_values(space), seed=seed)
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True, multivariate=True)


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """``median`` (MedianPruner), ``asha`` (SuccessiveHalvingPruner) or ``none``."""
    import optuna

    _one_of("pruner", name, PRUNERS)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    if name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def _executor(name: str, n_jobs: int | None) -> tuple[Executor, int]:
    from kiln.pipelines.executors import get_executor

    if not name.startswith("ray://"):
        _one_of("executor", name, EXECUTORS)
    jobs = n_jobs or os.cpu_count() or 2
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidArgumentError(f"n_jobs={n_jobs!r} is not accepted; give a positive "
                                   "integer")
    if name == "process":
        return get_executor("process", max_workers=jobs), jobs
    executor = get_executor(name)
    return executor, (jobs if executor.parallel else 1)


@dataclass
class _Running:
    trial: optuna.Trial
    run: Run


def open_study(ws: Workspace, config: SweepConfig) -> optuna.Study:
    """Create the sweep's study, or load it when the sweep exists (same space, metric and
    direction, or a :class:`ConflictError`)."""
    import optuna

    from kiln.sweeps.space import space_from_json
    from kiln.sweeps.storage import journal_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = journal_storage(ws, config.name)
    sampler = make_sampler(config.sampler, space_from_json(config.space), config.seed)
    pruner = make_pruner(config.pruner)
    if config.name in {s.study_name for s in storage.get_all_studies()}:
        study = optuna.load_study(study_name=config.name, storage=storage, sampler=sampler,
                                  pruner=pruner)
        old = study.user_attrs.get(CONFIG_ATTR, {})
        for key in ("space", "metric", "direction"):
            if old.get(key) != getattr(config, key):
                raise ConflictError(
                    f"sweep {config.name!r} exists with another {key} ({old.get(key)!r}); "
                    "resume it unchanged or give the new sweep another --name")
        return study
    study = optuna.create_study(study_name=config.name, storage=storage, sampler=sampler,
                                pruner=pruner,
                                direction=optuna.study.StudyDirection[config.direction.upper()])
    study.set_user_attr(CONFIG_ATTR, asdict(config))
    return study


def run_sweep(
    fn: Callable[[dict[str, Any]], Any],
    config: SweepConfig,
    trials: int,
    executor: str = "process",
    n_jobs: int | None = None,
    ws: Workspace | None = None,
    on_trial: Callable[[int, int], None] | None = None,
) -> Sweep:
    """Run trials of ``config`` until ``trials`` of them have ended (complete, pruned or
    failed by the train function); ``on_trial(done, trials)`` is called as they end."""
    from kiln import fluent
    from kiln.sweeps.report import Sweep

    config.check()
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise InvalidArgumentError(f"trials={trials!r} is not accepted; give a positive "
                                   "integer")
    ws = ws or fluent.get_workspace()
    if config.sampler == "grid":
        import math

        from kiln.sweeps.space import grid_values, space_from_json

        points = math.prod(len(v) for v in grid_values(space_from_json(config.space)).values())
        trials = min(trials, points)
    exe, slots = _executor(executor, n_jobs)
    study = open_study(ws, config)
    stored = dict(study.user_attrs.get(CONFIG_ATTR, {}))
    stored["extra"] = {**stored.get("extra", {}), "trials": trials, "executor": executor}
    study.set_user_attr(CONFIG_ATTR, stored)
    driver = _Driver(ws, study, config, exe)
    driver.run(fn, trials, slots, on_trial)
    return Sweep(config.name, ws)


class _Driver:
    def __init__(self, ws: Workspace, study: optuna.Study, config: SweepConfig,
                 executor: Executor) -> None:
        from kiln.sweeps.space import space_from_json
        from kiln.sweeps.storage import journal_storage

        self.ws = ws
        self.study = study
        self.config = config
        self.executor = executor
        self.storage: JournalStorage = journal_storage(ws, config.name)
        self.space = space_from_json(config.space)
        self.running: dict[Future[StepResult], _Running] = {}
        self.experiment = config.experiment or config.name
        self.last_beat = time.time()

    # -- the loop ---------------------------------------------------------------------
    def run(self, fn: Callable[[dict[str, Any]], Any], trials: int, slots: int,
            on_trial: Callable[[int, int], None] | None) -> None:
        self.fail_stale()
        parent = self._start_parent()
        try:
            while True:
                done, others = self._count()
                if on_trial is not None:
                    on_trial(min(done, trials), trials)
                want = trials - done - len(self.running) - others
                while want > 0 and len(self.running) < slots:
                    self._submit(fn, parent)
                    want -= 1
                if not self.running:
                    if done >= trials:
                        break
                    # Trials of another driver are still running (or not yet known stale).
                    time.sleep(min(1.0, self.config.heartbeat / 4))
                    self.fail_stale()
                    continue
                finished, _ = wait(list(self.running), timeout=self.config.heartbeat / 2,
                                   return_when=FIRST_COMPLETED)
                for future in finished:
                    self._finish(future, self.running.pop(future))
                self._beat()
        except BaseException as exc:
            for item in self.running.values():
                self.interrupt(item.trial._trial_id, f"the sweep stopped: {type(exc).__name__}")
            self.running.clear()
            status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt | SystemExit) \
                else RunStatus.FAILED
            self.ws.end_run(parent.run_id, status, f"{type(exc).__name__}: {exc}")
            raise
        self._end_parent(parent)

    def _count(self) -> tuple[int, int]:
        import optuna

        done = others = 0
        mine = {r.trial._trial_id for r in self.running.values()}
        for t in self.study.get_trials(deepcopy=False):
            if t.state == optuna.trial.TrialState.RUNNING:
                others += t._trial_id not in mine
            elif t.state.is_finished() and not t.system_attrs.get(INTERRUPTED_ATTR):
                done += 1
        return done, others

    def _submit(self, fn: Callable[[dict[str, Any]], Any], parent: Run) -> None:
        from kiln.pipelines.worker import StepTask
        from kiln.sweeps.trial import TrialSpec, run_trial

        trial = self.study.ask(fixed_distributions=self.space)
        run = self.ws.create_run(
            self.experiment, f"{self.config.name}-trial-{trial.number}",
            {"kiln.sweep": self.config.name, "kiln.sweep.trial": trial.number},
            parent_run_id=parent.run_id)
        self.ws.log_params(run.run_id, trial.params)
        trial.set_user_attr(RUN_ATTR, run.run_id)  # until its first heartbeat, its start counts
        spec = TrialSpec(self.config.name, trial._trial_id, trial.number, dict(trial.params),
                         fn, self.config.metric, self.config.pruner)
        task = StepTask(node_id=f"trial-{trial.number}", fn=run_trial, run=run, args=(spec,),
                        kwargs={})
        try:
            future = self.executor.submit(task, self.ws)
        except Exception as exc:
            self._tell(trial, state=_state("FAIL"))
            self.ws.end_run(run.run_id, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
            raise
        except BaseException as exc:  # Ctrl-C inside a trial of the local executor
            self.interrupt(trial._trial_id, f"the sweep stopped: {type(exc).__name__}")
            raise
        self.running[future] = _Running(trial, run)

    def _finish(self, future: Future[StepResult], item: _Running) -> None:
        from kiln.pipelines.materializers import load_output

        outcome: dict[str, Any] = {"state": "FAIL", "value": None}
        error = None
        try:
            result = future.result()
            if result.ok:
                outcome = load_output(result.outputs[0], self.ws.artifacts)
            else:
                error = result.error
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        state, value = outcome["state"], outcome["value"]
        tags: dict[str, Any] = {"kiln.sweep.state": state}
        if state == "COMPLETE":
            self._tell(item.trial, value)
            tags["kiln.sweep.value"] = value
        elif state == "PRUNED":
            self._tell(item.trial, state=_state("PRUNED"))
        else:
            item.trial.set_user_attr("kiln_error", (error or "")[:2000])
            self._tell(item.trial, state=_state("FAIL"))
        self.ws.set_tags(item.run.run_id, tags)
        self.ws.end_run(item.run.run_id,
                        RunStatus.FAILED if state == "FAIL" else RunStatus.FINISHED, error)

    def _tell(self, trial: optuna.Trial, value: float | None = None,
              state: optuna.trial.TrialState | None = None) -> None:
        try:
            self.study.tell(trial, value, state=state)
        except RuntimeError as exc:
            # The grid sampler calls study.stop() once the grid is done, which only works
            # inside study.optimize; the trial is stored all the same, and the driver
            # stops by itself (it runs at most as many trials as the grid has points).
            if "Study.stop" not in str(exc):
                raise

    def _beat(self) -> None:
        """Heartbeat the running trials, and look for stale ones, every heartbeat / 2."""
        now = time.time()
        if now - self.last_beat < self.config.heartbeat / 2:
            return
        self.last_beat = now
        self.fail_stale()
        for item in self.running.values():
            self.storage.set_trial_system_attr(item.trial._trial_id, HEARTBEAT_ATTR, now)

    # -- interrupted trials -----------------------------------------------------------
    def fail_stale(self) -> None:
        """Fail the running trials whose driver stopped beating (and run them again)."""
        import optuna

        mine = {r.trial._trial_id for r in self.running.values()}
        now = time.time()
        for t in self.study.get_trials(deepcopy=False,
                                       states=(optuna.trial.TrialState.RUNNING,)):
            if t._trial_id in mine:
                continue
            last = t.system_attrs.get(HEARTBEAT_ATTR) or (
                t.datetime_start.timestamp() if t.datetime_start else now)
            if now - float(last) > 2 * self.config.heartbeat:
                self.interrupt(t._trial_id, "its sweep process stopped beating")

    def interrupt(self, trial_id: int, reason: str) -> None:
        """Fail a running trial that did not end by itself, end its run KILLED and queue
        its parameters again."""
        from optuna.exceptions import UpdateFinishedTrialError

        frozen = self.storage.get_trial(trial_id)
        try:
            self.storage.set_trial_system_attr(trial_id, INTERRUPTED_ATTR, reason)
            self.storage.set_trial_state_values(trial_id, _state("FAIL"))
        except UpdateFinishedTrialError:  # it ended meanwhile
            return
        self.study.enqueue_trial(frozen.params, user_attrs={"kiln_retry_of": frozen.number},
                                 skip_if_exists=False)
        run_id = frozen.user_attrs.get(RUN_ATTR)
        if run_id:
            run = self.ws.get_run(run_id)
            if run.status is RunStatus.RUNNING:
                self.ws.set_tags(run_id, {"kiln.sweep.state": "INTERRUPTED"})
                self.ws.end_run(run_id, RunStatus.KILLED, reason)

    # -- the parent run ---------------------------------------------------------------
    def _start_parent(self) -> Run:

        previous = list(self.study.user_attrs.get(PARENTS_ATTR, []))
        self._close_orphans(previous)
        parent = self.ws.create_run(
            self.experiment, f"sweep-{self.config.name}",
            {"kiln.sweep": self.config.name, "kiln.sweep.role": "parent",
             "kiln.sweep.session": len(previous) + 1})
        self.study.set_user_attr(PARENTS_ATTR, [*previous, parent.run_id])
        return parent

    def _close_orphans(self, parents: list[str]) -> None:
        """End the parent runs of sessions that were killed, once none of their trials runs."""
        import optuna

        if self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            return
        for run_id in parents:
            if self.ws.get_run(run_id).status is RunStatus.RUNNING:
                self.ws.end_run(run_id, RunStatus.KILLED, "the sweep process stopped")

    def _end_parent(self, parent: Run) -> None:
        from kiln.sweeps.report import best_trial

        best = best_trial(self.study)
        if best is not None and best.value is not None:
            self.ws.log_batch(parent.run_id, metrics={f"best.{self.config.metric}": best.value},
                              tags={"kiln.sweep.best_trial": best.number,
                                    "kiln.sweep.best_run": best.user_attrs.get(RUN_ATTR, "")})
        self.ws.end_run(parent.run_id, RunStatus.FINISHED)
        self._close_orphans(list(self.study.user_attrs.get(PARENTS_ATTR, [])))


def _state(name: str) -> optuna.trial.TrialState:
    import optuna

    state: optuna.trial.TrialState = optuna.trial.TrialState[name]
    return state


def trial_run_id(trial: FrozenTrial) -> str | None:
    value = trial.user_attrs.get(RUN_ATTR)
    return str(value) if value else None
