"""``FeatureRegistrySuite`` and ``OnlineStoreSuite``: what feature-store backends must do.

Subclass one in a test module and give it its fixture (``store``: a new, empty
metadata store; ``online_store``: a new, empty online store).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from kiln.entities import Materialization
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.features.online.base import OnlineStore
from kiln.metadata.base import DefinitionSpec, MetadataStore


def _view(features: list[str], ttl: float | None = 86400.0) -> dict[str, Any]:
    return {"entities": [{"name": "driver", "join_keys": ["driver_id"]}],
            "source": {"type": "parquet", "path": "/data/stats.parquet"},
            "features": [{"name": f, "dtype": "float64"} for f in features],
            "timestamp_field": "event_timestamp", "ttl_seconds": ttl}


class FeatureRegistrySuite:
    """Conformance tests for :class:`kiln.metadata.base.FeatureRegistryStore`."""

    @pytest.fixture
    def store(self) -> MetadataStore:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide a `store` fixture")

    def test_apply_versions_only_changed_definitions(self, store: MetadataStore) -> None:
        entity = DefinitionSpec("entity", "driver", {"join_keys": ["driver_id"]})
        first = store.apply_feature_definitions(
            [entity, DefinitionSpec("feature_view", "stats", _view(["a"]))], "alice", 10)
        assert [(d.kind, d.name, d.version, d.user) for d in first] == [
            ("entity", "driver", 1, "alice"), ("feature_view", "stats", 1, "alice")]
        again = store.apply_feature_definitions(
            [entity, DefinitionSpec("feature_view", "stats", _view(["a"]))], "bob", 20)
        assert [d.version for d in again] == [1, 1]
        assert again[1].created_at == 10  # unchanged: the existing version is returned
        changed = store.apply_feature_definitions(
            [DefinitionSpec("feature_view", "stats", _view(["a", "b"]))], "bob", 30)
        assert changed[0].version == 2 and changed[0].spec == _view(["a", "b"])
        assert changed[0].digest != first[1].digest
        assert store.get_feature_definition("feature_view", "stats").version == 2
        assert store.get_feature_definition("feature_view", "stats", 1).spec == _view(["a"])
        versions = store.list_feature_definition_versions("feature_view", "stats")
        assert [(d.version, d.user) for d in versions] == [(1, "alice"), (2, "bob")]

    def test_list_returns_latest_of_each(self, store: MetadataStore) -> None:
        store.apply_feature_definitions([DefinitionSpec("feature_view", "b", _view(["x"])),
                                         DefinitionSpec("feature_view", "a", _view(["x"]))],
                                        "u", 1)
        store.apply_feature_definitions([DefinitionSpec("feature_view", "b", _view(["y"]))],
                                        "u", 2)
        store.apply_feature_definitions([DefinitionSpec("entity", "driver",
                                                        {"join_keys": ["driver_id"]})], "u", 3)
        views = store.list_feature_definitions("feature_view")
        assert [(d.name, d.version) for d in views] == [("a", 1), ("b", 2)]
        assert [d.kind for d in store.list_feature_definitions()] == [
            "entity", "feature_view", "feature_view"]

    def test_unknown_names_and_versions_are_named(self, store: MetadataStore) -> None:
        with pytest.raises(NotFoundError, match=r"'nope'.*none yet"):
            store.get_feature_definition("feature_view", "nope")
        store.apply_feature_definitions([DefinitionSpec("feature_view", "stats", _view(["a"]))],
                                        "u", 1)
        with pytest.raises(NotFoundError, match=r"'nope'.*'stats'"):
            store.get_feature_definition("feature_view", "nope")
        with pytest.raises(NotFoundError, match="no version 7; versions: 1"):
            store.get_feature_definition("feature_view", "stats", 7)
        with pytest.raises(NotFoundError, match="'other'"):
            store.list_feature_definition_versions("feature_view", "other")
        with pytest.raises(InvalidArgumentError, match="'thing'"):
            store.list_feature_definitions("thing")

    def test_a_failed_apply_registers_nothing(self, store: MetadataStore) -> None:
        with pytest.raises(InvalidArgumentError, match="'stats' is defined twice"):
            store.apply_feature_definitions(
                [DefinitionSpec("feature_view", "other", _view(["a"])),
                 DefinitionSpec("feature_view", "stats", _view(["a"])),
                 DefinitionSpec("feature_view", "stats", _view(["b"]))], "u", 1)
        assert store.list_feature_definitions() == []

    def test_concurrent_applies_number_versions_in_turn(self, store: MetadataStore) -> None:
        errors: list[BaseException] = []

        def apply(i: int) -> None:
            try:
                store.apply_feature_definitions(
                    [DefinitionSpec("feature_view", "stats", _view([f"f{i}"]))], "u", i)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=apply, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        versions = store.list_feature_definition_versions("feature_view", "stats")
        assert [d.version for d in versions] == [1, 2, 3, 4]

    def test_materialization_state_is_replaced(self, store: MetadataStore) -> None:
        assert store.get_materialization("stats", "sqlite:///x") is None
        store.set_materialization(Materialization("stats", "sqlite:///x", 1, 1000, 5, 1))
        store.set_materialization(Materialization("stats", "redis://r", 1, 500, 2, 1))
        store.set_materialization(Materialization("stats", "sqlite:///x", 2, 2000, 7, 3))
        assert store.get_materialization("stats", "sqlite:///x") == Materialization(
            "stats", "sqlite:///x", 2, 2000, 7, 3)
        assert store.get_materialization("stats", "redis://r") == Materialization(
            "stats", "redis://r", 1, 500, 2, 1)
        store.set_materialization(Materialization("other", "redis://r", 1, 10, 1, 1))
        assert [(m.view, m.target) for m in store.list_materializations("stats")] == [
            ("stats", "redis://r"), ("stats", "sqlite:///x")]
        assert len(store.list_materializations()) == 3


class OnlineStoreSuite:
    """Conformance tests for :class:`kiln.features.online.base.OnlineStore`."""

    @pytest.fixture
    def online_store(self) -> OnlineStore:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide an `online_store` fixture")

    def test_is_an_online_store(self, online_store: OnlineStore) -> None:
        assert isinstance(online_store, OnlineStore)

    def test_read_returns_rows_in_key_order(self, online_store: OnlineStore) -> None:
        online_store.write_batch("stats", [("1", 10, b"[1,0.5]"), ("2", 20, b'[1,"x|y"]\x00')])
        assert online_store.read("stats", ["2", "missing", "1", "2"]) == [
            (20, b'[1,"x|y"]\x00'), None, (10, b"[1,0.5]"), (20, b'[1,"x|y"]\x00')]
        assert online_store.read("stats", []) == []

    def test_newer_rows_win(self, online_store: OnlineStore) -> None:
        online_store.write_batch("stats", [("1", 100, b"a"), ("2", 100, b"a")])
        online_store.write_batch("stats", [("1", 50, b"older"), ("2", 150, b"newer")])
        online_store.write_batch("stats", [("3", 1, b"new")])
        assert online_store.read("stats", ["1", "2", "3"]) == [
            (100, b"a"), (150, b"newer"), (1, b"new")]
        online_store.write_batch("stats", [("1", 100, b"same time, rewritten")])
        assert online_store.read("stats", ["1"]) == [(100, b"same time, rewritten")]

    def test_rows_are_deleted_by_key(self, online_store: OnlineStore) -> None:
        online_store.write_batch("a", [("1", 1, b"x"), ("2", 1, b"y"), ("3", 1, b"z")])
        online_store.write_batch("b", [("1", 1, b"other view")])
        assert online_store.delete("a", ["1", "3", "missing"]) == 2
        assert online_store.read("a", ["1", "2", "3"]) == [None, (1, b"y"), None]
        assert online_store.read("b", ["1"]) == [(1, b"other view")]
        assert online_store.delete("a", []) == 0

    def test_views_are_separate_and_can_be_dropped(self, online_store: OnlineStore) -> None:
        online_store.write_batch("a", [("1", 1, b"in a")])
        online_store.write_batch("b", [("1", 2, b"in b")])
        assert online_store.read("a", ["1"]) == [(1, b"in a")]
        online_store.drop_view("a")
        assert online_store.read("a", ["1"]) == [None]
        assert online_store.read("b", ["1"]) == [(2, b"in b")]

    def test_large_batches(self, online_store: OnlineStore) -> None:
        rows = [(str(i), i, b"[1,%d]" % i) for i in range(2500)]
        online_store.write_batch("big", rows)
        keys = [str(i) for i in range(0, 2500, 3)]
        assert online_store.read("big", keys) == [(int(k), b"[1,%d]" % int(k)) for k in keys]

    def test_concurrent_readers(self, online_store: OnlineStore) -> None:
        online_store.write_batch("stats", [(str(i), i, str(i).encode()) for i in range(100)])
        results: list[Any] = []

        def read() -> None:
            for _ in range(20):
                results.append(online_store.read("stats", ["5", "50"]))

        threads = [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [[(5, b"5"), (50, b"50")]] * 80
