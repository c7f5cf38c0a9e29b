"""Hyperparameter sweeps: Optuna's samplers and pruners, trials as tracked child runs.

>>> import kiln
>>> def train(params):
...     for step in range(10):
...         kiln.log_metric("loss", (params["x"] - 2) ** 2 + 1 / (step + 1), step=step)
>>> # sweep = kiln.sweep(train, space={"x": {"type": "float", "low": -5, "high": 5}},
>>> #                    trials=20, executor="process")
>>> # sweep.best_params

The train function takes the trial's parameters as a dict. Its objective is what it
returns (a number, or a dict holding ``metric``), else the last ``metric`` point it
logged; points logged with a ``step`` feed the pruner. See :mod:`kiln.sweeps.space`
for the search space format and :mod:`kiln.sweeps.runner` for how trials run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.sweeps.report import Sweep

if TYPE_CHECKING:
    from kiln.workspace import Workspace


def sweep(
    train_fn: Callable[[dict[str, Any]], Any],
    space: Mapping[str, Any] | str | Path,
    trials: int = 20,
    executor: str = "process",
    *,
    name: str | None = None,
    metric: str = "loss",
    direction: str = "minimize",
    sampler: str = "tpe",
    pruner: str = "median",
    n_jobs: int | None = None,
    experiment: str | None = None,
    seed: int | None = None,
    heartbeat: float = 30.0,
    target: str | None = None,
    workspace: Workspace | None = None,
    on_trial: Callable[[int, int], None] | None = None,
) -> Sweep:
    """Run (or resume) the sweep ``name`` until ``trials`` trials have ended.

    ``executor`` is ``local``, ``process`` (``n_jobs`` trials in parallel, default the
    CPU count) or ``ray``. Running it again with the same name continues the same
    study; the space, metric and direction must stay the same.
    """
    from kiln.sweeps.runner import SweepConfig, run_sweep
    from kiln.sweeps.space import load_space, space_to_json

    config = SweepConfig(
        name=name or _default_name(train_fn),
        space=space_to_json(load_space(space)),
        metric=metric, direction=direction, sampler=sampler, pruner=pruner,
        target=target or _target_of(train_fn), experiment=experiment, heartbeat=heartbeat,
        seed=seed,
    )
    return run_sweep(train_fn, config, trials, executor, n_jobs, workspace, on_trial)


def resume(name: str, trials: int | None = None, executor: str | None = None, *,
           n_jobs: int | None = None, workspace: Workspace | None = None,
           train_fn: Callable[[dict[str, Any]], Any] | None = None,
           on_trial: Callable[[int, int], None] | None = None) -> Sweep:
    """Continue the sweep ``name`` with its stored settings, to ``trials`` trials (default:
    the count it was last asked for). The train function is imported from the sweep's
    ``MODULE:FUNCTION`` target unless given."""
    from kiln.exceptions import InvalidArgumentError
    from kiln.sweeps.runner import SweepConfig, run_sweep

    existing = Sweep(name, workspace)
    stored = dict(existing.config)
    config = SweepConfig.from_dict(stored)
    if train_fn is None:
        if not config.target:
            raise InvalidArgumentError(
                f"sweep {name!r} was started with a function kiln cannot import again; "
                "resume it by calling kiln.sweep() with the same function and name")
        train_fn = load_train_fn(config.target)
    count = trials or int(config.extra.get("trials", 0)) or len(existing.trials)
    return run_sweep(train_fn, config, count, executor or config.extra.get("executor",
                                                                           "process"),
                     n_jobs, existing.workspace, on_trial)


def load_train_fn(target: str) -> Callable[[dict[str, Any]], Any]:
    """The function named by ``MODULE:FUNCTION`` or ``FILE.py:FUNCTION``; its module
    travels to workers by value, so they need not import it."""
    import cloudpickle

    from kiln.exceptions import InvalidArgumentError
    from kiln.pipelines.loader import import_module

    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise InvalidArgumentError(
            f"train function {target!r} is not accepted; use MODULE:FUNCTION or "
            "FILE.py:FUNCTION")
    module = import_module(module_name)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise InvalidArgumentError(f"module {module_name!r} has no function {attr!r}")
    cloudpickle.register_pickle_by_value(module)
    return fn  # type: ignore[no-any-return]


def _default_name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__name__", "sweep")).strip("<>") or "sweep"


def _target_of(fn: Callable[..., Any]) -> str | None:
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


__all__ = ["Sweep", "load_train_fn", "resume", "sweep"]
