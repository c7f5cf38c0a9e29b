"""The feature store: definitions in Python, point-in-time training sets, online lookups.

>>> from datetime import timedelta
>>> import kiln.features as kf
>>> customer = kf.Entity("customer", join_keys=["customer_id"])
>>> stats = kf.FeatureView("customer_stats", entities=[customer],
...                        source="data/customer_stats.parquet",
...                        features=[kf.Feature("avg_spend", "float64")],
...                        ttl=timedelta(days=30))
>>> # kf.apply([stats]); kf.materialize()
>>> # kf.get_training_set(entity_df, ["customer_stats:avg_spend"])
>>> # kf.get_online_features([{"customer_id": 7}], ["customer_stats:avg_spend"])

The functions act on the current workspace (``kiln.get_workspace()``); the same
methods exist on :class:`kiln.Workspace`. Heavy dependencies (DuckDB, Arrow,
Redis, Starlette) load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "DatasetSource": "kiln.features.definitions",
    "Entity": "kiln.features.definitions",
    "Feature": "kiln.features.definitions",
    "FeatureView": "kiln.features.definitions",
    "ParquetSource": "kiln.features.definitions",
    "SqlSource": "kiln.features.definitions",
    "OnlineFeatures": "kiln.features.lookup",
    "create_app": "kiln.features.server",
    "apply": "kiln.features.fluent",
    "get_feature_view": "kiln.features.fluent",
    "get_online_features": "kiln.features.fluent",
    "get_training_set": "kiln.features.fluent",
    "list_feature_views": "kiln.features.fluent",
    "materialize": "kiln.features.fluent",
}

__all__ = [
    "DatasetSource",
    "Entity",
    "Feature",
    "FeatureView",
    "OnlineFeatures",
    "ParquetSource",
    "SqlSource",
    "apply",
    "create_app",
    "get_feature_view",
    "get_online_features",
    "get_training_set",
    "list_feature_views",
    "materialize",
]

if TYPE_CHECKING:
    from kiln.features.definitions import (
        DatasetSource,
        Entity,
        Feature,
        FeatureView,
        ParquetSource,
        SqlSource,
    )
    from kiln.features.fluent import (
        apply,
        get_feature_view,
        get_online_features,
        get_training_set,
        list_feature_views,
        materialize,
    )
    from kiln.features.lookup import OnlineFeatures
    from kiln.features.server import create_app


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln.features' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
