"""Training past one process: PyTorch data-parallel training on Ray Train.

>>> # result = kiln.train.distributed(train_fn, num_workers=2, config={"lr": 0.1},
>>> #                                 model_fn=make_model, register_as="churn-net")
>>> # result.run_id, result.metrics, result.model_version

See :mod:`kiln.train.distributed` for how metrics, checkpoints and the final
model reach kiln.
"""

from __future__ import annotations

from kiln.train.distributed import DistributedResult, distributed, report

__all__ = ["DistributedResult", "distributed", "report"]
