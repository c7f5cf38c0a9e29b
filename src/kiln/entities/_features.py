"""Records of the feature store: registered definitions and materialization progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FeatureDefinition:
    """One immutable version of a registered feature-store object.

    ``kind`` is ``"entity"`` or ``"feature_view"``; ``spec`` is the JSON-able
    definition (see :mod:`kiln.features.definitions`); ``digest`` is the sha256
    of its canonical JSON, so re-applying an unchanged definition adds no version.
    """

    kind: str
    name: str
    version: int
    digest: str
    spec: dict[str, Any]
    created_at: int
    user: str


@dataclass(frozen=True, slots=True)
class Materialization:
    """How far a feature view has been pushed into one online store.

    Every row with an event time before ``until`` (ms) has been written, from
    version ``view_version`` of the view's definition.
    """

    view: str
    target: str
    view_version: int
    until: int
    rows: int
    updated_at: int
