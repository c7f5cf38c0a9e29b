"""Materializers: each type stored as its format and read back; plug-ins; unstorable values."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kiln import pipeline, step
from kiln.artifacts.base import ArtifactStore, StoredObject
from kiln.pipelines.materializers import (
    _registered,
    load_output,
    register_materializer,
    store_output,
)
from kiln.workspace import Workspace


def test_types_choose_their_format(ws: Workspace) -> None:
    from sklearn.linear_model import LogisticRegression

    store = ws.artifacts
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    ref = store_output(df, store)
    assert ref.materializer == "dataframe"
    assert store.get_bytes(ref.sha256)[:4] == b"PAR1"
    pd.testing.assert_frame_equal(load_output(ref, store), df)

    arr = np.arange(6.0).reshape(2, 3)
    ref = store_output(arr, store)
    back = load_output(ref, store)
    assert ref.materializer == "ndarray" and isinstance(back, np.memmap)
    assert not back.flags.writeable and np.array_equal(back, arr)

    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    ref = store_output(model, store)
    assert ref.materializer == "model"
    assert load_output(ref, store).predict([[1.0]]).tolist() == [1]

    ref = store_output({"auc": 0.9, "tags": ["a"]}, store)
    assert ref.materializer == "json" and store.get_bytes(ref.sha256) == \
        b'{"auc": 0.9, "tags": ["a"]}'
    ref = store_output((1, 2), store)  # a tuple would come back as a list from JSON
    assert ref.materializer == "pickle" and load_output(ref, store) == (1, 2)


class Text:
    def __init__(self, value: str) -> None:
        self.value = value


class TextMaterializer:
    name = "text-upper"

    def handles(self, value: Any) -> bool:
        return isinstance(value, Text)

    def save(self, value: Any, store: ArtifactStore) -> StoredObject:
        return store.put_bytes(value.value.upper().encode())

    def load(self, sha256: str, store: ArtifactStore) -> Any:
        return Text(store.get_bytes(sha256).decode())


def test_a_registered_materializer_comes_first(ws: Workspace) -> None:
    register_materializer(TextMaterializer())
    try:
        ref = store_output(Text("hi"), ws.artifacts)
        assert ref.materializer == "text-upper"
        assert load_output(ref, ws.artifacts).value == "HI"
    finally:
        _registered.clear()


@step
def lock() -> object:
    return threading.Lock()


@step
def after(x: object) -> int:
    return 1


@pipeline
def unstorable():
    after(lock())


def test_an_output_that_cannot_be_stored_fails_its_step(ws: Workspace, tmp_path: Path) -> None:
    result = unstorable.run()
    assert not result.ok
    assert result.steps["after"].status == "SKIPPED"
    error = result.steps["lock"].error or ""
    assert "step 'lock': output 0 cannot be stored: a lock cannot be stored" in error


def test_memory_mapped_inputs_are_not_copied(ws: Workspace) -> None:
    @step
    def big() -> np.ndarray:
        return np.ones(1_000_000)

    @step
    def owns(x: np.ndarray) -> bool:
        return bool(x.flags.owndata)

    @pipeline
    def fan():
        x = big()
        for _ in range(3):
            owns(x)

    result = fan.run()
    assert [result.output(n) for n in ("owns", "owns_2", "owns_3")] == [False] * 3


def test_a_packed_array_is_loaded_from_a_verified_copy(ws: Workspace) -> None:
    import io

    from kiln.artifacts.local import LocalArtifactStore
    from kiln.pipelines.materializers import get_materializer

    store = ws.artifacts
    assert isinstance(store, LocalArtifactStore)
    arr = np.arange(12.0).reshape(3, 4) + np.random.default_rng().random()
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    with store.packer() as pack:  # no file of its own to map
        sha = pack.add(buf.getvalue())
    assert not store.path_of(sha).exists()
    back = get_materializer("ndarray").load(sha, store)
    assert isinstance(back, np.memmap) and np.array_equal(back, arr)
