"""One trial, as it runs in a worker: call the train function with the trial's parameters.

The worker's executor makes the trial's child run active. While the function
runs, every point of the sweep's metric it logs with ``kiln.log_metric(name,
value, step=...)`` is reported to the Optuna trial, and when the pruner says
so, that call raises ``optuna.TrialPruned``: the function stops there.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import optuna


@dataclass
class TrialSpec:
    """What a worker needs to run one trial."""

    sweep: str
    trial_id: int
    number: int
    params: dict[str, Any]
    fn: Callable[[dict[str, Any]], Any]
    metric: str
    pruner: str


class _Reporter:
    """The metric hook of a trial: reports the sweep's metric, raises when pruned."""

    def __init__(self, trial: optuna.Trial, metric: str) -> None:
        self.trial = trial
        self.metric = metric
        self.last: float | None = None

    def __call__(self, key: str, value: float, step: int | None) -> None:
        if key != self.metric:
            return
        self.last = float(value)
        if step is None or not math.isfinite(self.last):
            return
        import optuna

        self.trial.report(self.last, step)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at step {step} ({key}={value:g})")


def run_trial(spec: TrialSpec) -> dict[str, Any]:
    """Run ``spec`` in the current context (its child run active); the outcome as a dict:
    ``{"state": "COMPLETE", "value": v}`` or ``{"state": "PRUNED", "value": last}``.
    Errors of the train function propagate (the executor records them)."""
    import optuna

    from kiln import fluent
    from kiln.sweeps.runner import make_pruner
    from kiln.sweeps.storage import journal_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = journal_storage(fluent.get_workspace(), spec.sweep)
    study = optuna.load_study(study_name=spec.sweep, storage=storage,
                              sampler=optuna.samplers.RandomSampler(),
                              pruner=make_pruner(spec.pruner))
    reporter = _Reporter(optuna.Trial(study, spec.trial_id), spec.metric)
    token = fluent._metric_hook.set(reporter)
    try:
        returned = spec.fn(dict(spec.params))
    except optuna.TrialPruned:
        return {"state": "PRUNED", "value": reporter.last}
    finally:
        fluent._metric_hook.reset(token)
    return {"state": "COMPLETE", "value": objective_value(returned, spec.metric, reporter.last)}


def objective_value(returned: Any, metric: str, last: float | None) -> float:
    """The trial's value: the number returned, ``returned[metric]``, or else the last
    ``metric`` point the function logged."""
    if isinstance(returned, Mapping) and metric in returned:
        returned = returned[metric]
    if returned is None or isinstance(returned, Mapping):
        if last is None:
            raise InvalidArgumentError(
                f"the train function returned {type(returned).__name__} and logged no "
                f"metric {metric!r}; return the objective or log it with kiln.log_metric")
        return last
    if isinstance(returned, bool) or not isinstance(returned, numbers.Real):
        raise InvalidArgumentError(
            f"the train function returned {returned!r}; return a number, a dict holding "
            f"{metric!r}, or None after logging {metric!r}")
    return float(returned)
