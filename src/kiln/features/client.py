"""The feature store on an explicit Workspace: apply, training sets, materialize, lookups."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.core import WorkspaceCore
from kiln.entities import FeatureDefinition, LineageEdge
from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

    from kiln.features.definitions import Entity, FeatureView
    from kiln.features.lookup import OnlineFeatures
    from kiln.features.materialization import MaterializeResult, Progress
    from kiln.features.online.base import OnlineStore
    from kiln.features.registry import ApplyReport, RegisteredView

_REFRESH_S = 5.0  # how long the online path trusts its cached view definitions


class FeaturesClient(WorkspaceCore):
    """Feature views: register definitions, build point-in-time training sets, materialize
    into the online store and look values up, all from the same registered definitions."""

    # -- definitions -----------------------------------------------------------------------
    def apply_features(self, objects: Iterable[Entity | FeatureView]) -> ApplyReport:
        """Register entities and feature views (a new version for each changed one) after
        checking that every view's source has its timestamp, join key and feature columns.
        Nothing is registered when any check fails."""
        from kiln.features.registry import apply

        report = apply(self.store, objects, self.user, now_ms(), resolve=self._with_data)
        self._views_cache().clear()
        return report

    def get_feature_view(self, name: str, version: int | None = None) -> RegisteredView:
        """A registered view (default: its latest version)."""
        from kiln.features.registry import view_from_definition

        return view_from_definition(self.store.get_feature_definition("feature_view", name,
                                                                      version))

    def list_feature_views(self) -> list[FeatureDefinition]:
        """The latest version of every registered feature view."""
        return self.store.list_feature_definitions("feature_view")

    # -- offline -------------------------------------------------------------------------
    def get_training_set(
        self,
        entity_df: pd.DataFrame,
        features: Sequence[str],
        *,
        timestamp_column: str = "event_timestamp",
        full_feature_names: bool = False,
        run_id: str | None = None,
    ) -> pd.DataFrame:
        """``entity_df`` plus the requested features, point-in-time correct.

        Each row gets, per view, the latest source row of its entity with an event time
        at or before the row's ``timestamp_column`` and within the view's ttl. Rows
        without such history keep their place with nulls. Inside an active run (or with
        ``run_id``) the views used are recorded as the run's inputs.
        """
        from kiln.features.definitions import parse_refs
        from kiln.features.offline import training_set

        grouped: dict[tuple[str, int | None], list[str]] = {}
        for ref in parse_refs(features):
            names = grouped.setdefault((ref.view, ref.version), [])
            if ref.feature not in names:
                names.append(ref.feature)
        resolved = [(self.get_feature_view(v, pin), names) for (v, pin), names in grouped.items()]
        for rv, names in resolved:
            for name in names:
                rv.view.feature(name)
        frame = training_set(entity_df, [(self._with_data(rv.view), names)
                                         for rv, names in resolved],
                             timestamp_column=timestamp_column,
                             full_feature_names=full_feature_names)
        self._record_inputs([rv for rv, _ in resolved], run_id)
        return frame

    def _record_inputs(self, views: Sequence[RegisteredView], run_id: str | None) -> None:
        if run_id is None:
            from kiln.fluent import active_run

            active = active_run()
            if active is None or active.workspace is not self:
                return
            run_id = active.run_id
        from kiln.features.definitions import DatasetSource

        at = now_ms()
        edges = [LineageEdge("feature_view", rv.ref, "run", run_id, "input", at) for rv in views]
        # A view over a dataset version: the run read that version too.
        edges += [LineageEdge("dataset_version", rv.view.source.ref, "run", run_id, "input", at)
                  for rv in views if isinstance(rv.view.source, DatasetSource)]
        self.store.add_edges(edges)

    def _with_data(self, view: FeatureView) -> FeatureView:
        """``view`` with a dataset-version source pinned to its version number and pointed
        at that version's Parquet files in the artifact store (other sources unchanged)."""
        from kiln.data.client import local_paths
        from kiln.data.refs import parse_ref
        from kiln.data.statcache import StatCache
        from kiln.features.definitions import DatasetSource

        src = view.source
        if not isinstance(src, DatasetSource):
            return view
        name, version = parse_ref(src.ref)
        dv = (self.store.latest_dataset_version(name) if version is None
              else self.store.get_dataset_version(name, version))
        stat_cache = StatCache(self.settings.home / "cache" / "stat")
        paths = local_paths(self.artifacts, stat_cache, self.settings.home, dv)
        parquet = tuple(p for rel, p in sorted(paths.items()) if rel.endswith(".parquet"))
        if not parquet:
            raise InvalidArgumentError(
                f"dataset {dv.ref} (source of feature view {view.name!r}) holds no Parquet "
                f"file ({dv.file_count} files); a feature view source needs Parquet"
            )
        return replace(view, source=DatasetSource(dv.ref, parquet))

    # -- online ----------------------------------------------------------------------------
    @property
    def online_store(self) -> OnlineStore:
        """The online store named by ``settings.online_store`` (opened on first use)."""
        store: OnlineStore | None = self.__dict__.get("_online_store")
        if store is None:
            from kiln.features.online import open_online_store

            store = open_online_store(self.settings.online_store)
            self.__dict__["_online_store"] = store
            self._closers.append(store.close)
        return store

    @property
    def online_target(self) -> str:
        """The online store's identity in materialization records (password hidden)."""
        from kiln.metadata.sql.engine import redact

        return redact(self.settings.online_store)

    def materialize(
        self,
        views: Sequence[str] | None = None,
        *,
        start: Any = None,
        end: Any = None,
        on_progress: Progress | None = None,
    ) -> list[MaterializeResult]:
        """Push the latest value per entity of ``views`` (default: all) into the online store.

        Without ``start`` it is incremental: it continues from where the last run of the
        same view version stopped. ``end`` defaults to now. ``start``/``end`` take
        datetimes, pandas Timestamps or ISO strings (naive ones are UTC).
        """
        from kiln.features.materialization import materialize_view
        from kiln.features.offline import as_utc_ms

        names = list(views) if views else [d.name for d in self.list_feature_views()]
        if not names:
            raise InvalidArgumentError(
                "no feature views are registered; run `kiln features apply MODULE` first"
            )
        now = now_ms()
        end_ms = now if end is None else as_utc_ms(end)
        start_ms = None if start is None else as_utc_ms(start)
        registered = [self.get_feature_view(n) for n in names]
        registered = [replace(rv, view=self._with_data(rv.view)) for rv in registered]
        return [
            materialize_view(self.store, self.online_store, self.online_target, rv,
                             start_ms=start_ms, end_ms=end_ms, incremental=start is None,
                             now_ms=now, on_progress=on_progress)
            for rv in registered
        ]

    def get_online_features(
        self,
        entity_rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
        features: Sequence[str],
        *,
        full_feature_names: bool = False,
    ) -> OnlineFeatures:
        """The latest materialized values of ``features`` for each entity row, with the age
        of each value (values older than the view's ttl are ``None``, as in training sets).

        >>> # ws.get_online_features([{"customer_id": 7}], ["customer_stats:avg_spend"])
        """
        from kiln.features.lookup import lookup

        return lookup(self._resolver(), self.online_store, entity_rows, features,
                      full_feature_names=full_feature_names)

    # -- caches for the online path ------------------------------------------------------------
    def _views_cache(self) -> _ViewCache:
        cache: _ViewCache | None = self.__dict__.get("_feature_view_cache")
        if cache is None:
            cache = _ViewCache(self)
            self.__dict__["_feature_view_cache"] = cache
        return cache

    def _resolver(self) -> _ViewCache:
        return self._views_cache()


class _ViewCache:
    """Registered views for the online path: the latest is re-read at most every few
    seconds; a given version never changes, so it is kept."""

    def __init__(self, client: FeaturesClient) -> None:
        self._client = client
        self._latest: dict[str, tuple[float, RegisteredView]] = {}
        self._versions: dict[tuple[str, int], RegisteredView] = {}
        self._positions: dict[tuple[str, int], dict[str, int]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._latest.clear()

    def lookup_view(self, name: str, version: int | None) -> RegisteredView:
        if version is not None:
            return self._version(name, version)
        hit = self._latest.get(name)
        now = time.monotonic()
        if hit is not None and now - hit[0] < _REFRESH_S:
            return hit[1]
        rv = self._client.get_feature_view(name)
        with self._lock:
            self._latest[name] = (now, rv)
            self._versions[(name, rv.version)] = rv
        return rv

    def _version(self, name: str, version: int) -> RegisteredView:
        rv = self._versions.get((name, version))
        if rv is None:
            rv = self._client.get_feature_view(name, version)
            with self._lock:
                self._versions[(name, version)] = rv
        return rv

    def feature_positions(self, name: str, version: int) -> dict[str, int]:
        positions = self._positions.get((name, version))
        if positions is None:
            view = self._version(name, version).view
            positions = {f: i for i, f in enumerate(view.feature_names)}
            with self._lock:
                self._positions[(name, version)] = positions
        return positions
