"""``SweepStoreSuite``: the behaviour every sweep journal backend must show.

Subclass it with a ``store`` fixture yielding a new, empty store that implements
:class:`kiln.metadata.base.SweepStore`.
"""

from __future__ import annotations

import threading

import pytest

from kiln.metadata.base import SweepStore


class SweepStoreSuite:
    """Conformance tests for :class:`kiln.metadata.base.SweepStore`."""

    @pytest.fixture
    def store(self) -> SweepStore:  # pragma: no cover - overridden
        raise NotImplementedError("subclasses provide a `store` fixture")

    def test_entries_come_back_in_order_from_any_offset(self, store: SweepStore) -> None:
        assert store.read_sweep_entries("s1") == []
        store.append_sweep_entries("s1", ["a", "b"], 10)
        store.append_sweep_entries("s1", ["c"], 20)
        store.append_sweep_entries("s2", ["x"], 30)
        assert store.read_sweep_entries("s1") == ["a", "b", "c"]
        assert store.read_sweep_entries("s1", 2) == ["c"]
        assert store.read_sweep_entries("s1", 3) == []
        assert store.read_sweep_entries("s2") == ["x"]
        assert store.list_sweeps() == [("s1", 10), ("s2", 30)]

    def test_concurrent_appends_number_entries_without_gaps(self, store: SweepStore) -> None:
        def writer(tag: str) -> None:
            for i in range(15):
                store.append_sweep_entries("race", [f"{tag}{i}", f"{tag}{i}+"], 1)

        threads = [threading.Thread(target=writer, args=(t,)) for t in "abc"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        entries = store.read_sweep_entries("race")
        assert len(entries) == 90 and len(set(entries)) == 90
        # A batch stays together: each entry is followed by its "+" twin.
        for i in range(0, 90, 2):
            assert entries[i + 1] == entries[i] + "+"
        assert store.read_sweep_entries("race", 88) == entries[88:]

    def test_bad_name_is_refused(self, store: SweepStore) -> None:
        from kiln.exceptions import InvalidArgumentError

        with pytest.raises(InvalidArgumentError, match="sweep name"):
            store.append_sweep_entries("", ["a"], 1)
