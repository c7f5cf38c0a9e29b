"""Ray: each step is a Ray task; inputs and outputs travel through the artifact store.

Install with ``pip install 'kiln[ray]'``. When Ray is not initialized yet, the
executor connects to ``address`` (``ray://...``, ``auto``) or starts a local
instance.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from kiln.exceptions import ConfigError
from kiln.pipelines.worker import StepResult, StepTask, run_pickled

if TYPE_CHECKING:
    from kiln.workspace import Workspace


class RayExecutor:
    """Submits each step as a Ray task needing ``num_cpus`` CPUs."""

    name = "ray"
    parallel = True

    def __init__(self, address: str | None = None, num_cpus: float = 1) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("executor 'ray' needs Ray: pip install 'kiln[ray]'") from None
        self._ray: Any = ray
        self.address = address
        self.num_cpus = num_cpus
        self._remote: Any = None

    def submit(self, task: StepTask, ws: Workspace) -> Future[StepResult]:
        import cloudpickle

        ray = self._ray
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False,
                     log_to_driver=False)
        if self._remote is None:
            self._remote = ray.remote(num_cpus=self.num_cpus, max_retries=0)(run_pickled)
        task.settings = ws.settings
        ref = self._remote.remote(cloudpickle.dumps(task))
        future: Future[StepResult] = ref.future()
        return future

    def close(self) -> None:
        return None
