"""The model flavor interface: how one kind of model is saved to a folder and loaded back.

A flavor is a small object with a ``name`` and three methods. Register a new
one under the ``kiln.flavors`` entry-point group (``name = "pkg.module:Flavor"``).

Two optional methods, looked up with ``getattr`` so older flavors keep working:

- ``wrap(model)``: the in-memory model as an object with ``predict(data)`` giving the
  predictions the loaded model will give (used to infer the output signature and by
  the conformance kit). Flavors whose models already have ``predict`` need not define it.
- ``unsafe_content(path, meta)``: what loading the saved bundle would execute beyond plain
  data (``["pickle"]``, or the type names a skops file asks to import); empty when the
  format is safe. A non-empty answer makes the registry refuse bundles the user did not
  write unless trusted (see :mod:`kiln.registry.trust`).
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: Whether flavors write their safe format (skops for scikit-learn) besides or instead of a
#: pickle. :func:`kiln.registry.model.save_model` sets it; pipelines turn it off for the
#: models steps hand to each other, which only kiln reads back and which a safe format
#: would not protect anyway (a step output is loaded as its step stored it).
SAFE_FORMAT: ContextVar[bool] = ContextVar("kiln_safe_format", default=True)


@runtime_checkable
class Flavor(Protocol):
    """Saves and loads one kind of model. ``kiln.testing.flavors`` checks one."""

    name: str

    def handles(self, model: object) -> bool:
        """Whether this flavor knows how to save ``model`` (must not import heavy packages)."""
        ...

    def save(self, model: object, path: Path) -> dict[str, Any]:
        """Write the model's files into the existing folder ``path``; return flavor metadata."""
        ...

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        """Load the model saved in ``path``; the result has ``predict(data)``."""
        ...


def wrap(flavor: Flavor, model: object) -> Any:
    """``model`` as an object with ``predict``, the way ``flavor`` will load it back."""
    fn = getattr(flavor, "wrap", None)
    return fn(model) if fn is not None else model


def unsafe_content(flavor: Flavor, path: Path, meta: dict[str, Any]) -> list[str]:
    """What loading the bundle in ``path`` would execute beyond plain data (empty: safe)."""
    fn = getattr(flavor, "unsafe_content", None)
    return list(fn(path, meta)) if fn is not None else []


def module_of(model: object, *prefixes: str) -> bool:
    """Whether ``model``'s class, or one of its bases, is defined under one of ``prefixes``
    (checked by name, so nothing is imported)."""
    for cls in type(model).__mro__:
        module = cls.__module__ or ""
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return True
    return False


def as_matrix(data: Any, dtype: str = "float32") -> Any:
    """A 2-D numpy array of ``dtype`` from a DataFrame, a list of rows, an array or a tensor."""
    import numpy as np

    to_numpy = getattr(data, "to_numpy", None)
    if to_numpy is not None:
        arr = to_numpy(dtype=dtype)
    else:
        detach = getattr(data, "detach", None)
        arr = np.asarray(detach().cpu().numpy() if detach is not None else data, dtype=dtype)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr


def flat(values: Any) -> Any:
    """A model output as numpy, one column squeezed to one dimension."""
    import numpy as np

    arr = np.asarray(values)
    return arr.ravel() if arr.ndim == 2 and arr.shape[1] == 1 else arr
