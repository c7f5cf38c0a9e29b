"""Monitoring statistics: profiles, drift, data quality, performance, A/B analysis, reports.

Drift is computed against a compact :class:`Profile` of the reference data, so its cost
does not grow with the size of the training set::

    from kiln.monitoring import Profile, detect_drift
    reference = Profile.from_frame(train_df)          # a few KB per column, JSON-safe
    result = detect_drift(reference, last_hour_df)
    result.drifted_columns, result.share_of_drifted_features

Everything is imported on first use (numpy, scipy and pandas only when a function runs).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "Profile": "kiln.monitoring.profile",
    "ColumnProfile": "kiln.monitoring.profile",
    "DriftConfig": "kiln.monitoring.drift",
    "DriftResult": "kiln.monitoring.drift",
    "ColumnDrift": "kiln.monitoring.drift",
    "detect_drift": "kiln.monitoring.drift",
    "QualityResult": "kiln.monitoring.quality",
    "check_quality": "kiln.monitoring.quality",
    "PerformanceResult": "kiln.monitoring.performance",
    "classification_metrics": "kiln.monitoring.performance",
    "regression_metrics": "kiln.monitoring.performance",
    "ABResult": "kiln.monitoring.abtest",
    "RouteStats": "kiln.monitoring.abtest",
    "StatTest": "kiln.monitoring.stattests",
    "compare_routes": "kiln.monitoring.abtest",
    "WindowStats": "kiln.monitoring.report",
    "render_report": "kiln.monitoring.report",
}

__all__ = [
    "ABResult",
    "ColumnDrift",
    "ColumnProfile",
    "DriftConfig",
    "DriftResult",
    "PerformanceResult",
    "Profile",
    "QualityResult",
    "RouteStats",
    "StatTest",
    "WindowStats",
    "check_quality",
    "classification_metrics",
    "compare_routes",
    "detect_drift",
    "regression_metrics",
    "render_report",
]

if TYPE_CHECKING:
    from kiln.monitoring.abtest import ABResult, RouteStats, compare_routes
    from kiln.monitoring.drift import ColumnDrift, DriftConfig, DriftResult, detect_drift
    from kiln.monitoring.performance import (
        PerformanceResult,
        classification_metrics,
        regression_metrics,
    )
    from kiln.monitoring.profile import ColumnProfile, Profile
    from kiln.monitoring.quality import QualityResult, check_quality
    from kiln.monitoring.report import WindowStats, render_report
    from kiln.monitoring.stattests import StatTest


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln.monitoring' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
