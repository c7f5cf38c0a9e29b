"""kiln: the whole ML lifecycle in one package.

The fluent API keeps MLflow's names::

    import kiln
    with kiln.start_run(experiment="churn") as run:
        kiln.log_params({"C": 1.0})
        kiln.log_metric("auc", 0.93)
        kiln.log_model(model, name="churn-clf", input_example=X[:5])

Everything is imported on first use, so ``import kiln`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "KilnError",
    "Settings",
    "Workspace",
    "__version__",
    "active_run",
    "autolog",
    "data",
    "delete_alias",
    "end_run",
    "evaluate",
    "features",
    "get_metric_history",
    "get_model_version",
    "get_run",
    "get_workspace",
    "infer_signature",
    "load_model",
    "log_artifact",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "pipeline",
    "search_runs",
    "set_alias",
    "set_tag",
    "set_tags",
    "set_workspace",
    "start_run",
    "step",
    "sweep",
    "train",
    "use_workspace",
]

# Where each public name lives; everything not listed elsewhere comes from kiln.fluent.
_HOMES = {
    "Workspace": "kiln.workspace",
    "Settings": "kiln.settings",
    "autolog": "kiln.autolog",
    "infer_signature": "kiln.registry.signature",
    "KilnError": "kiln.exceptions",
    "data": "kiln.data",
    "features": "kiln.features",
    "step": "kiln.pipelines.dsl",
    "pipeline": "kiln.pipelines.dsl",
    "evaluate": "kiln.governance.fluent",
    "sweep": "kiln.sweeps",
    "train": "kiln.train",
}
_SUBPACKAGES = frozenset({"data", "features", "train"})
_LAZY: dict[str, str] = {
    name: _HOMES.get(name, "kiln.fluent") for name in __all__ if name != "__version__"
}

if TYPE_CHECKING:
    from kiln import data, features
    from kiln import train as train
    from kiln.autolog import autolog
    from kiln.exceptions import KilnError
    from kiln.fluent import (
        ActiveRun,
        active_run,
        delete_alias,
        end_run,
        get_metric_history,
        get_model_version,
        get_run,
        get_workspace,
        load_model,
        log_artifact,
        log_input,
        log_metric,
        log_metrics,
        log_model,
        log_param,
        log_params,
        log_text,
        search_runs,
        set_alias,
        set_tag,
        set_tags,
        set_workspace,
        start_run,
        use_workspace,
    )
    from kiln.governance.fluent import evaluate
    from kiln.pipelines.dsl import pipeline, step
    from kiln.registry.signature import infer_signature
    from kiln.settings import Settings
    from kiln.sweeps import sweep
    from kiln.workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln' has no attribute {name!r}")
    if name in _SUBPACKAGES:  # kiln.data, kiln.features: the module itself
        value = importlib.import_module(module)
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
