"""Synthetic driver stats for the feature-store tests."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from kiln.features import Entity, Feature, FeatureView

ANCHOR = pd.Timestamp("2026-11-20T00:00:00Z")


def make_stats(n: int = 2000, ids: int = 50, days: int = 10, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of driver stats over ``days`` before ANCHOR (unique times per driver)."""
    rng = np.random.default_rng(seed)
    seconds = rng.choice(days * 86400, size=n, replace=False)
    return pd.DataFrame({
        "driver_id": rng.integers(0, ids, n).astype("int64") + 1000,
        "event_timestamp": ANCHOR - pd.to_timedelta(seconds, unit="s"),
        "f0": rng.standard_normal(n).astype("float32"),
        "f1": rng.standard_normal(n),
        "trips": rng.integers(0, 100, n).astype("int64"),
    })


def make_entities(n: int = 300, ids: int = 60, days: int = 12, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "driver_id": rng.integers(0, ids, n).astype("int64") + 1000,
        "event_timestamp": ANCHOR - pd.to_timedelta(rng.integers(0, days * 86400, n),
                                                    unit="s"),
    })


DRIVER = Entity("driver", join_keys=["driver_id"])


def stats_view(source: object, ttl: timedelta | None = timedelta(days=3),
               name: str = "driver_stats") -> FeatureView:
    return FeatureView(name, entities=[DRIVER], source=source,
                       features=[Feature("f0", "float32"), Feature("f1", "float64"),
                                 Feature("trips", "int64")], ttl=ttl)
