"""``kiln.train.distributed``: a PyTorch training function on N Ray Train workers, tracked
as one kiln run.

Every worker runs ``train_fn(config)`` with the torch process group set up (gloo on
CPU; wrap the model with ``ray.train.torch.prepare_model`` for DistributedDataParallel).
What a worker reports with :func:`report` (or ``ray.train.report``) reaches kiln from
the Ray Train controller: the metrics of rank 0 become the run's metrics (step = the
report's index), each reported checkpoint is stored as the run's artifacts under
``checkpoints/<index>/``, and the model saved in the final checkpoint is loaded into
``model_fn()`` and logged (and registered as ``register_as``) with kiln's model API.
"""

from __future__ import annotations

import functools
import numbers
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.entities import ModelVersion, RunStatus
from kiln.exceptions import ConfigError, InvalidArgumentError

if TYPE_CHECKING:
    from kiln.settings import Settings
    from kiln.workspace import Workspace

MODEL_FILE = "model.pt"


@dataclass
class DistributedResult:
    """What a distributed training run left: its kiln run, rank 0's last metrics, the
    model loaded from the final checkpoint (when ``model_fn`` was given) and its
    registered version (when ``register_as`` was given)."""

    run_id: str
    metrics: dict[str, float] = field(default_factory=dict)
    checkpoints: int = 0
    model: Any = None
    model_version: ModelVersion | None = None


def report(metrics: Mapping[str, Any], model: Any = None) -> None:
    """Report ``metrics`` from every worker; with ``model``, rank 0 also saves its
    ``state_dict`` (unwrapped from DistributedDataParallel) as a checkpoint.

    Call it on every worker at the same points (Ray Train waits for all of them).
    """
    import ray.train
    import torch

    checkpoint = None
    with tempfile.TemporaryDirectory() as tmp:
        if model is not None and ray.train.get_context().get_world_rank() == 0:
            inner = getattr(model, "module", model)
            torch.save(inner.state_dict(), Path(tmp) / MODEL_FILE)
            checkpoint = ray.train.Checkpoint.from_directory(tmp)
        ray.train.report(dict(metrics), checkpoint=checkpoint)


def _callback_class() -> type[Any]:
    try:
        from ray.train import UserCallback
    except ImportError:
        raise ConfigError("kiln.train.distributed needs Ray Train's UserCallback "
                          "(Ray Train v2): pip install -U 'kiln[distributed]'") from None

    class KilnReportCallback(UserCallback):
        """Runs in the Ray Train controller: writes rank 0's reports to the kiln run."""

        def __init__(self, settings: Settings, run_id: str) -> None:
            self.settings = settings
            self.run_id = run_id
            self.step = 0
            self._ws: Workspace | None = None

        def __getstate__(self) -> dict[str, Any]:
            return {**self.__dict__, "_ws": None}

        def after_report(self, run_context: Any, metrics: list[dict[str, Any]],
                         checkpoint: Any) -> None:
            if self._ws is None:
                from kiln.workspace import Workspace

                self._ws = Workspace(settings=self.settings)
            rank0 = metrics[0] if metrics else {}
            numeric = {k: float(v) for k, v in rank0.items()
                       if isinstance(v, numbers.Real) and not isinstance(v, bool)}
            if numeric:
                self._ws.log_batch(self.run_id, metrics=numeric, step=self.step)
            if checkpoint is not None:
                self._ws.log_artifact(self.run_id, checkpoint.path,
                                      f"checkpoints/{self.step:05d}")
            self.step += 1

    return KilnReportCallback


def distributed(
    train_fn: Callable[[dict[str, Any]], Any],
    num_workers: int = 2,
    executor: str = "ray",
    config: Mapping[str, Any] | None = None,
    *,
    model_fn: Callable[[], Any] | None = None,
    register_as: str | None = None,
    input_example: Any = None,
    experiment: str = "default",
    name: str | None = None,
    cpus_per_worker: float = 1,
    workspace: Workspace | None = None,
) -> DistributedResult:
    """Run ``train_fn(config)`` on ``num_workers`` Ray Train workers (CPU, gloo) as one
    tracked run; see the module's docstring. ``executor`` is ``"ray"`` (a local Ray
    is started unless one is running) or a ``ray://`` address."""
    import cloudpickle
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    from kiln import fluent

    if executor != "ray" and not executor.startswith("ray://"):
        raise InvalidArgumentError(f"executor {executor!r} is not accepted for distributed "
                                   "training; use 'ray' or a ray:// address")
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 1:
        raise InvalidArgumentError(f"num_workers={num_workers!r} is not accepted; give a "
                                   "positive integer")
    if register_as is not None and model_fn is None:
        raise InvalidArgumentError("register_as needs model_fn (it builds the model the "
                                   "final checkpoint's state_dict is loaded into)")
    ws = workspace or fluent.get_workspace()
    if not ray.is_initialized():
        ray.init(address=None if executor == "ray" else executor, include_dashboard=False,
                 log_to_driver=False)
    needed = num_workers * cpus_per_worker
    available = ray.cluster_resources().get("CPU", 0)  # type: ignore[no-untyped-call]
    if executor == "ray" and available < needed:  # a local Ray would wait forever
        raise InvalidArgumentError(
            f"num_workers={num_workers} with cpus_per_worker={cpus_per_worker:g} needs {needed:g} "
            f"CPUs; this Ray has {available:g}: lower num_workers or cpus_per_worker")
    run = ws.create_run(experiment, name, {"kiln.train.executor": "ray",
                                           "kiln.train.workers": num_workers})
    ws.log_params(run.run_id, {**(config or {}), "num_workers": num_workers})
    try:
        with tempfile.TemporaryDirectory(prefix="kiln-ray-train-") as storage:
            trainer = TorchTrainer(
                functools.partial(_worker_loop, cloudpickle.dumps(train_fn)),
                train_loop_config=dict(config or {}),
                torch_config=TorchConfig(backend="gloo"),
                scaling_config=ScalingConfig(num_workers=num_workers, use_gpu=False,
                                             resources_per_worker={"CPU": cpus_per_worker}),
                run_config=RunConfig(name=run.run_id, storage_path=storage,
                                     callbacks=[_callback_class()(ws.settings, run.run_id)]),
            )
            result = trainer.fit()
            out = DistributedResult(run.run_id)
            out.checkpoints = len({a.path.split("/")[1] for a in ws.list_artifacts(run.run_id)
                                   if a.path.startswith("checkpoints/")})
            out.metrics = {k: v for k, v in ws.get_run(run.run_id).metrics.items()}
            if model_fn is not None:
                out.model = _final_model(result, model_fn)
                out.model_version = ws.log_model(run.run_id, out.model, register_as,
                                                 input_example=input_example)
    except BaseException as exc:
        status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        ws.end_run(run.run_id, status, f"{type(exc).__name__}: {exc}"[:2000])
        raise
    ws.end_run(run.run_id, RunStatus.FINISHED)
    return out


def _worker_loop(payload: bytes, config: dict[str, Any]) -> Any:
    """What each Ray Train worker runs: the train function, shipped with cloudpickle (so
    functions kiln pickles by value need not be importable on the workers)."""
    import cloudpickle

    return cloudpickle.loads(payload)(config)


def _final_model(result: Any, model_fn: Callable[[], Any]) -> Any:
    import torch

    if result.checkpoint is None:
        raise InvalidArgumentError("training reported no checkpoint: call "
                                   "kiln.train.report(metrics, model=model) at least once")
    with result.checkpoint.as_directory() as folder:
        path = Path(folder) / MODEL_FILE
        if not path.is_file():
            raise InvalidArgumentError(f"the final checkpoint has no {MODEL_FILE}; save it "
                                       "with kiln.train.report(metrics, model=model)")
        state = torch.load(path, weights_only=True)
    model = model_fn()
    model.load_state_dict(state)
    model.eval()
    return model
