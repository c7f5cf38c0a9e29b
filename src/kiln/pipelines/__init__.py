"""Pipelines: ``@step`` and ``@pipeline``, cached steps, executors, triggers and the scheduler.

>>> from kiln.pipelines import pipeline, step
>>> @step
... def add(a: int, b: int = 1) -> int:
...     return a + b
>>> @pipeline
... def tiny(x: int = 1):
...     add(add(x), b=2)

``tiny.run()`` runs it in-process; ``tiny.run(executor="process")`` on all cores.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "Pipeline": "kiln.pipelines.dsl",
    "Step": "kiln.pipelines.dsl",
    "pipeline": "kiln.pipelines.dsl",
    "step": "kiln.pipelines.dsl",
    "PipelineRun": "kiln.pipelines.runner",
    "run_pipeline": "kiln.pipelines.runner",
    "resume": "kiln.pipelines.runner",
    "load_pipeline": "kiln.pipelines.loader",
    "Materializer": "kiln.pipelines.materializers",
    "register_materializer": "kiln.pipelines.materializers",
    "Executor": "kiln.pipelines.executors.base",
    "get_executor": "kiln.pipelines.executors",
    "Trigger": "kiln.pipelines.triggers",
    "schedule": "kiln.pipelines.triggers",
    "on_dataset": "kiln.pipelines.triggers",
    "on_alert": "kiln.pipelines.triggers",
    "on_commit": "kiln.pipelines.triggers",
    "record_alert": "kiln.pipelines.triggers",
    "Scheduler": "kiln.pipelines.scheduler",
}
__all__ = [
    "Executor",
    "Materializer",
    "Pipeline",
    "PipelineRun",
    "Scheduler",
    "Step",
    "Trigger",
    "get_executor",
    "load_pipeline",
    "on_alert",
    "on_commit",
    "on_dataset",
    "pipeline",
    "record_alert",
    "register_materializer",
    "resume",
    "run_pipeline",
    "schedule",
    "step",
]

if TYPE_CHECKING:
    from kiln.pipelines.dsl import Pipeline, Step, pipeline, step
    from kiln.pipelines.executors import get_executor
    from kiln.pipelines.executors.base import Executor
    from kiln.pipelines.loader import load_pipeline
    from kiln.pipelines.materializers import Materializer, register_materializer
    from kiln.pipelines.runner import PipelineRun, resume, run_pipeline
    from kiln.pipelines.scheduler import Scheduler
    from kiln.pipelines.triggers import (
        Trigger,
        on_alert,
        on_commit,
        on_dataset,
        record_alert,
        schedule,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln.pipelines' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
