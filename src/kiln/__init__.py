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

_FLUENT = (
    "ActiveRun",
    "active_run",
    "delete_alias",
    "end_run",
    "get_metric_history",
    "get_model_version",
    "get_run",
    "get_workspace",
    "load_model",
    "log_artifact",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "search_runs",
    "set_alias",
    "set_tag",
    "set_tags",
    "set_workspace",
    "start_run",
    "use_workspace",
)
_SUBPACKAGES = frozenset({"data"})  # exposed as modules, not as attributes of one
_LAZY: dict[str, str] = {name: "kiln.fluent" for name in _FLUENT}
_LAZY.update(
    {
        "Workspace": "kiln.workspace",
        "Settings": "kiln.settings",
        "autolog": "kiln.autolog",
        "infer_signature": "kiln.registry.signature",
        "KilnError": "kiln.exceptions",
        "data": "kiln.data",
    }
)

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
    "search_runs",
    "set_alias",
    "set_tag",
    "set_tags",
    "set_workspace",
    "start_run",
    "use_workspace",
]

if TYPE_CHECKING:
    from kiln import data
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
    from kiln.registry.signature import infer_signature
    from kiln.settings import Settings
    from kiln.workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln' has no attribute {name!r}")
    if name in _SUBPACKAGES:
        value = importlib.import_module(module)
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
