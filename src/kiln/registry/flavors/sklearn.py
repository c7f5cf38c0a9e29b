"""The scikit-learn flavor: any estimator or pipeline, saved with skops (safe) when installed.

skops writes a zip of plain data plus the names of the types to rebuild; loading
imports only scikit-learn's, numpy's and scipy's own types unless the registry's
trust check (:mod:`kiln.registry.trust`) allows the others. Without skops, or for
versions logged before it, the model is a pickle: loading it runs whatever code
it names, so it is loaded only from a store the user trusts.

A pickle copy is kept beside the skops file and used only when the registry has
already decided the bundle is trusted (you wrote it, or ``KILN_TRUST`` names its
writer): importing skops imports every scikit-learn module (and torch, when
installed, through scikit-learn's array-API shim), seconds that a model server's
launch should not pay for its own models. Everyone else's bundles load through skops.
"""

from __future__ import annotations

import importlib.util
import pickle
import sys
from pathlib import Path
from typing import Any

_PICKLE = "model.pkl"
_SKOPS = "model.skops"


class SklearnFlavor:
    """Saves scikit-learn estimators with skops (or pickle protocol 5 without it)."""

    name = "sklearn"

    def handles(self, model: object) -> bool:
        module = type(model).__module__
        if module.startswith("sklearn."):
            return True
        if "sklearn.base" in sys.modules:
            from sklearn.base import BaseEstimator

            return isinstance(model, BaseEstimator)
        return False

    def save(self, model: object, path: Path) -> dict[str, Any]:
        meta: dict[str, Any] = {"class": _qualname(model)}
        from kiln.registry.flavors.base import SAFE_FORMAT

        if SAFE_FORMAT.get() and importlib.util.find_spec("skops") is not None:
            import skops.io

            (path / _SKOPS).write_bytes(_stable_zip(skops.io.dumps(model)))
            meta.update(file=_SKOPS, format="skops", trusted_copy=_PICKLE)
        else:
            meta.update(file=_PICKLE, format="pickle")
        with open(path / _PICKLE, "wb") as f:
            pickle.dump(model, f, protocol=5)
        try:
            from importlib.metadata import version

            meta["sklearn_version"] = version("scikit-learn")
        except Exception:
            pass
        return meta

    def unsafe_content(self, path: Path, meta: dict[str, Any]) -> list[str]:
        if _format(meta) == "pickle":
            return ["pickle"]
        import skops.io

        return list(skops.io.get_untrusted_types(file=path / meta["file"]))

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        file = path / meta.get("file", _PICKLE)
        copy = meta.get("trusted_copy")
        if meta.get("trusted") and copy and (path / copy).is_file():
            file = path / copy  # the registry trusts this bundle: the fast pickle copy
        elif _format(meta) == "skops":
            import skops.io

            # the registry's trust check has accepted these types before load() runs
            return skops.io.load(file, trusted=skops.io.get_untrusted_types(file=file))
        with open(file, "rb") as f:
            return pickle.load(f)


def _stable_zip(data: bytes) -> bytes:
    """The skops archive with the same bytes for the same model: skops names its arrays and
    memo entries by ``id()`` and stamps the time; renumber them in order and fix the time
    (equal models then share one content-addressed artifact)."""
    import io
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    schema = source.read("schema.json").decode()
    ids: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        new = ids.setdefault(match.group(2), str(len(ids) + 1))
        return f"{match.group(1)}{new}{match.group(3)}"

    pattern = re.compile(r'("__id__": |")(\d{5,})(\.npy"|,|\n|})')
    schema = pattern.sub(renumber, schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        names = {n: (ids.get(n.removesuffix(".npy"), n.removesuffix(".npy")) + ".npy"
                     if n.endswith(".npy") else n) for n in source.namelist()}
        for name in sorted(names, key=lambda n: names[n]):
            body = schema.encode() if name == "schema.json" else source.read(name)
            target.writestr(zipfile.ZipInfo(names[name], (1980, 1, 1, 0, 0, 0)), body)
    return out.getvalue()


def _format(meta: dict[str, Any]) -> str:
    # versions logged before skops have no "format": they are pickles
    return str(meta.get("format", "pickle"))


def _qualname(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"
