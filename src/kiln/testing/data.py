"""``DataStoreSuite``: the behaviour every metadata store shows for data versions.

Subclass it with a ``store`` fixture that yields a new, empty store.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from kiln.exceptions import NotFoundError
from kiln.metadata.base import MetadataStore

_TREE = "a" * 64


def _add(store: MetadataStore, name: str = "sales", tree: str = _TREE, **kw: Any) -> Any:
    fields: dict[str, Any] = {
        "tree": tree, "kind": "file", "size": 10, "file_count": 1, "rows": 3,
        "schema": {"columns": [{"name": "x", "type": "int"}]}, "user": "alice",
        "created_at": 1000, "git_commit": "abc", "source": "data/sales.csv",
    }
    fields.update(kw)
    return store.create_dataset_version(name, **fields)


class DataStoreSuite:
    """Conformance tests for :class:`kiln.metadata.base.DataStore`."""

    @pytest.fixture
    def store(self) -> MetadataStore:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide a `store` fixture")

    def test_versions_are_numbered_from_one(self, store: MetadataStore) -> None:
        first = _add(store)
        second = _add(store, tree="b" * 64, rows=None, schema=None, git_commit=None)
        assert (first.version, second.version) == (1, 2)
        assert first.ref == "sales@1"
        got = store.get_dataset_version("sales", 1)
        assert got == first
        assert got.schema == {"columns": [{"name": "x", "type": "int"}]}
        assert store.get_dataset_version("sales", 2).schema is None
        assert store.latest_dataset_version("sales").version == 2
        assert [v.version for v in store.list_dataset_versions("sales")] == [1, 2]

    def test_datasets_are_listed_by_name(self, store: MetadataStore) -> None:
        _add(store, "b")
        _add(store, "a")
        _add(store, "a")
        assert store.list_datasets() == ["a", "b"]

    def test_unknown_names_and_versions_are_named(self, store: MetadataStore) -> None:
        _add(store)
        with pytest.raises(NotFoundError, match="'nope' does not exist; datasets: 'sales'"):
            store.get_dataset_version("nope", 1)
        with pytest.raises(NotFoundError, match="no version 7; versions: 1"):
            store.get_dataset_version("sales", 7)
        with pytest.raises(NotFoundError, match="'nope' does not exist"):
            store.latest_dataset_version("nope")
        with pytest.raises(NotFoundError, match="'nope' does not exist"):
            store.list_dataset_versions("nope")

    def test_schema_can_be_replaced(self, store: MetadataStore) -> None:
        _add(store)
        store.set_dataset_schema("sales", 1, {"columns": []})
        assert store.get_dataset_version("sales", 1).schema == {"columns": []}
        with pytest.raises(NotFoundError):
            store.set_dataset_schema("sales", 9, {})

    def test_concurrent_writers_get_distinct_versions(self, store: MetadataStore) -> None:
        versions: list[int] = []
        lock = threading.Lock()

        def add() -> None:
            for _ in range(5):
                v = _add(store, "busy").version
                with lock:
                    versions.append(v)

        threads = [threading.Thread(target=add) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(versions) == list(range(1, 21))
