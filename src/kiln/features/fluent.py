"""Feature-store functions on the current workspace (``kiln.get_workspace()``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kiln.fluent import get_workspace

if TYPE_CHECKING:
    import pandas as pd

    from kiln.entities import FeatureDefinition
    from kiln.features.definitions import Entity, FeatureView
    from kiln.features.lookup import OnlineFeatures
    from kiln.features.materialization import MaterializeResult
    from kiln.features.registry import ApplyReport, RegisteredView


def apply(objects: Iterable[Entity | FeatureView]) -> ApplyReport:
    """Register entities and feature views; see :meth:`kiln.Workspace.apply_features`."""
    return get_workspace().apply_features(objects)


def get_feature_view(name: str, version: int | None = None) -> RegisteredView:
    """A registered feature view (default: its latest version)."""
    return get_workspace().get_feature_view(name, version)


def list_feature_views() -> list[FeatureDefinition]:
    """The latest version of every registered feature view."""
    return get_workspace().list_feature_views()


def get_training_set(
    entity_df: pd.DataFrame,
    features: Sequence[str],
    *,
    timestamp_column: str = "event_timestamp",
    full_feature_names: bool = False,
) -> pd.DataFrame:
    """Point-in-time correct training set; see :meth:`kiln.Workspace.get_training_set`."""
    return get_workspace().get_training_set(entity_df, features,
                                            timestamp_column=timestamp_column,
                                            full_feature_names=full_feature_names)


def materialize(views: Sequence[str] | None = None, *, start: Any = None, end: Any = None
                ) -> list[MaterializeResult]:
    """Push latest values into the online store; see :meth:`kiln.Workspace.materialize`."""
    return get_workspace().materialize(views, start=start, end=end)


def get_online_features(
    entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    features: Sequence[str],
    *,
    full_feature_names: bool = False,
) -> OnlineFeatures:
    """Latest values and their age; see :meth:`kiln.Workspace.get_online_features`."""
    return get_workspace().get_online_features(entity_rows, features,
                                               full_feature_names=full_feature_names)
