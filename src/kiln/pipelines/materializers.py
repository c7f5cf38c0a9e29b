"""Materializers store step outputs as artifacts by type and read them back.

Built in, tried in this order: ``dataframe`` (Parquet), ``ndarray`` (``.npy``,
read back memory-mapped), ``model`` (the registry's flavor bundle), ``json``
(JSON-like values), ``pickle`` (cloudpickle, the fallback). Add your own with
:func:`register_materializer` or the ``kiln.materializers`` entry-point group;
a registered materializer is tried before the built-in ones.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from kiln._plugins import available, load_plugin
from kiln.entities import OutputRef
from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.artifacts.base import ArtifactStore, StoredObject

GROUP = "kiln.materializers"
BUILTIN = {
    "dataframe": "kiln.pipelines.materializers:DataFrameMaterializer",
    "ndarray": "kiln.pipelines.materializers:NdarrayMaterializer",
    "model": "kiln.pipelines.materializers:ModelMaterializer",
    "json": "kiln.pipelines.materializers:JsonMaterializer",
    "pickle": "kiln.pipelines.materializers:PickleMaterializer",
}
_ORDER = ("dataframe", "ndarray", "model", "json", "pickle")


@runtime_checkable
class Materializer(Protocol):
    """Stores values it ``handles`` as one artifact and loads them back."""

    name: str

    def handles(self, value: Any) -> bool: ...
    def save(self, value: Any, store: ArtifactStore) -> StoredObject: ...
    def load(self, sha256: str, store: ArtifactStore) -> Any: ...


class DataFrameMaterializer:
    """pandas DataFrames as Parquet (needs pyarrow: ``pip install 'kiln[pipelines]'``;
    without it DataFrames fall through to the pickle materializer)."""

    name = "dataframe"
    _parquet: bool | None = None

    def handles(self, value: Any) -> bool:
        import sys

        pd = sys.modules.get("pandas")
        if pd is None or not isinstance(value, pd.DataFrame):
            return False
        if DataFrameMaterializer._parquet is None:
            import importlib.util

            DataFrameMaterializer._parquet = importlib.util.find_spec("pyarrow") is not None
        return DataFrameMaterializer._parquet

    def save(self, value: Any, store: ArtifactStore) -> StoredObject:
        buf = io.BytesIO()
        value.to_parquet(buf)
        return put_bytes(store, buf.getvalue())

    def load(self, sha256: str, store: ArtifactStore) -> Any:
        import pandas as pd

        return pd.read_parquet(io.BytesIO(store.get_bytes(sha256)))


class NdarrayMaterializer:
    """numpy arrays as ``.npy``; read back memory-mapped (read-only) from a local store, so
    a large array fanned out to many steps is not copied into each."""

    name = "ndarray"

    def handles(self, value: Any) -> bool:
        import sys

        np = sys.modules.get("numpy")
        return np is not None and isinstance(value, np.ndarray) and value.dtype != object

    def save(self, value: Any, store: ArtifactStore) -> StoredObject:
        import numpy as np

        fd, name = tempfile.mkstemp(suffix=".npy", prefix="kiln-")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, value, allow_pickle=False)
            if getattr(store, "supports_unsynced", False):
                return store.put_file(Path(name), sync=False)  # type: ignore[call-arg]
            return store.put_file(Path(name))
        finally:
            os.unlink(name)

    def load(self, sha256: str, store: ArtifactStore) -> Any:
        import numpy as np

        locate = getattr(store, "locate", None)
        loc = locate(sha256) if locate is not None else None
        if loc is not None and not loc.packed:  # a loose file of a local store: mapped
            return np.load(loc.path, mmap_mode="r", allow_pickle=False)
        cache = Path(tempfile.gettempdir()) / "kiln-npy-cache" / f"{sha256}.npy"
        if not cache.exists():
            store.get_file(sha256, cache)
        return np.load(cache, mmap_mode="r", allow_pickle=False)


class ModelMaterializer:
    """Models (anything with ``fit`` and ``predict``) as a registry flavor bundle."""

    name = "model"

    def handles(self, value: Any) -> bool:
        if isinstance(value, type):
            return False
        return callable(getattr(value, "fit", None)) and callable(getattr(value, "predict",
                                                                          None))

    def save(self, value: Any, store: ArtifactStore) -> StoredObject:
        from kiln.artifacts.base import StoredObject
        from kiln.registry.model import save_model

        # a step's model is read back only by kiln (load_bundle below), so no skops copy
        saved = save_model(_Unsynced(store) if getattr(store, "supports_unsynced", False)
                           else store, value, safe_format=False)
        return StoredObject(saved.artifact, 0)

    def load(self, sha256: str, store: ArtifactStore) -> Any:
        from kiln.registry.model import load_bundle

        return load_bundle(store, sha256).raw


class _Unsynced:
    """A local store whose writes skip the fsync (see :func:`put_bytes`)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def put_file(self, path: Path) -> StoredObject:
        return self._store.put_file(path, sync=False)  # type: ignore[no-any-return]

    def put_bytes(self, data: bytes) -> StoredObject:
        return self._store.put_bytes(data, sync=False)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class JsonMaterializer:
    """Numbers, strings, booleans, ``None``, and lists / str-keyed dicts of them, as JSON."""

    name = "json"

    def handles(self, value: Any) -> bool:
        return _json_like(value, 0)

    def save(self, value: Any, store: ArtifactStore) -> StoredObject:
        return put_bytes(store, json.dumps(value, sort_keys=True).encode())

    def load(self, sha256: str, store: ArtifactStore) -> Any:
        return json.loads(store.get_bytes(sha256))


class PickleMaterializer:
    """Anything cloudpickle can serialize: the fallback."""

    name = "pickle"

    def handles(self, value: Any) -> bool:
        return True

    def save(self, value: Any, store: ArtifactStore) -> StoredObject:
        import cloudpickle

        try:
            data = cloudpickle.dumps(value)
        except Exception as exc:
            raise InvalidArgumentError(
                f"a {type(value).__name__} cannot be stored: {exc}; return a value a "
                "materializer accepts (DataFrame, ndarray, model, JSON-like, picklable)"
            ) from None
        return put_bytes(store, data)

    def load(self, sha256: str, store: ArtifactStore) -> Any:
        import cloudpickle

        return cloudpickle.loads(store.get_bytes(sha256))


_registered: list[Materializer] = []
_instances: dict[str, Materializer] = {}
_plugins: list[Materializer] | None = None


def put_bytes(store: ArtifactStore, data: bytes) -> StoredObject:
    """Store step data; a local store skips the fsync (see ``LocalArtifactStore``): a step
    output has the durability of the metadata that points at it."""
    if getattr(store, "supports_unsynced", False):
        return store.put_bytes(data, sync=False)  # type: ignore[call-arg]
    return store.put_bytes(data)


def register_materializer(materializer: Materializer) -> None:
    """Try ``materializer`` before the built-in ones (in this process)."""
    if not isinstance(materializer, Materializer):
        raise InvalidArgumentError(
            f"{materializer!r} is not a materializer; it needs name, handles, save and load")
    _registered.insert(0, materializer)
    _instances[materializer.name] = materializer


def get_materializer(name: str) -> Materializer:
    """The materializer registered as ``name``."""
    found = _instances.get(name)
    if found is None:
        found = load_plugin(GROUP, BUILTIN, name, what="materializer")()
        _instances[name] = found
    return found


def _candidates() -> list[Materializer]:
    global _plugins
    if _plugins is None:  # entry points are read once per process
        found = [get_materializer(n) for n in available(GROUP, BUILTIN) if n not in BUILTIN]
        _plugins = [*found, *(get_materializer(n) for n in _ORDER)]
    return [*_registered, *_plugins]


def store_output(value: Any, store: ArtifactStore) -> OutputRef:
    """Store ``value`` with the first materializer that handles it."""
    for mat in _candidates():
        if mat.handles(value):
            obj = mat.save(value, store)
            return OutputRef(mat.name, obj.sha256, obj.size)
    raise InvalidArgumentError(f"no materializer accepts a {type(value).__name__}")


def load_output(ref: OutputRef, store: ArtifactStore) -> Any:
    """Read back a stored output."""
    return get_materializer(ref.materializer).load(ref.sha256, store)


def _json_like(value: Any, depth: int) -> bool:
    if depth > 50:
        return False
    if value is None or type(value) in (str, int, bool):
        return True
    if type(value) is float:
        return value == value and value not in (float("inf"), float("-inf"))
    if type(value) is list:
        return all(_json_like(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _json_like(v, depth + 1) for k, v in value.items())
    return False


__all__ = ["Materializer", "get_materializer", "load_output", "register_materializer",
           "store_output"]
