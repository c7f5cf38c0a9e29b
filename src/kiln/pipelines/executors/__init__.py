"""Executors by name: ``local`` (default), ``process``, ``ray``; more via the
``kiln.executors`` entry-point group. Nothing is imported until asked for."""

from __future__ import annotations

from typing import Any

from kiln._plugins import load_plugin
from kiln.pipelines.executors.base import Executor

EXECUTORS = {
    "local": "kiln.pipelines.executors.local:LocalExecutor",
    "process": "kiln.pipelines.executors.process:ProcessExecutor",
    "ray": "kiln.pipelines.executors.ray:RayExecutor",
}
GROUP = "kiln.executors"


def get_executor(spec: str | Executor | None, **options: Any) -> Executor:
    """An executor from its name (``"process"``), a ``ray://`` address, or itself."""
    if spec is None:
        spec = "local"
    if not isinstance(spec, str):
        return spec
    if spec.startswith("ray://"):
        options.setdefault("address", spec)
        spec = "ray"
    cls = load_plugin(GROUP, EXECUTORS, spec, what="executor")
    executor: Executor = cls(**options)
    return executor


__all__ = ["EXECUTORS", "Executor", "get_executor"]
