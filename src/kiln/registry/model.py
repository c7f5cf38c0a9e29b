"""Model bundles: a flavor's files plus ``kiln-model.json``, stored as an artifact tree."""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.entities import ModelVersion, Signature
from kiln.registry.signature import enforce, infer_signature

if TYPE_CHECKING:
    from kiln.artifacts.base import ArtifactStore

META_FILE = "kiln-model.json"
EXAMPLE_FILE = "input_example.json"


@dataclass(frozen=True)
class SavedModel:
    """A bundle in the artifact store: its tree id, flavor and signature."""

    artifact: str
    flavor: str
    signature: Signature | None


class LoadedModel:
    """A model loaded from the registry or a run: ``predict`` checks input against the signature.

    ``raw`` is the underlying object (the scikit-learn estimator, the function...).
    """

    def __init__(
        self,
        raw: Any,
        flavor: str,
        signature: Signature | None,
        model_version: ModelVersion | None = None,
        uri: str | None = None,
    ) -> None:
        self.raw = raw
        self.flavor = flavor
        self.signature = signature
        self.model_version = model_version
        self.uri = uri

    def predict(self, data: Any) -> Any:
        """Predictions for ``data`` (a DataFrame, or records / columns a DataFrame accepts)."""
        return self.raw.predict(enforce(self.signature, data))

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities, for classifiers that have them."""
        fn = getattr(self.raw, "predict_proba", None)
        if fn is None:
            from kiln.exceptions import InvalidArgumentError

            raise InvalidArgumentError(f"model {self.uri or self.flavor} has no predict_proba")
        return fn(enforce(self.signature, data))

    def __repr__(self) -> str:
        return f"LoadedModel({self.uri or self.flavor!r}, raw={type(self.raw).__name__})"


def save_model(
    artifacts: ArtifactStore,
    model: object,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: Signature | None = None,
    safe_format: bool = True,
) -> SavedModel:
    """Save ``model`` with its flavor into the artifact store; infer the signature from
    ``input_example`` when none is given. ``safe_format=False`` skips a flavor's safe
    format (skops for scikit-learn: its first import in a process takes seconds), for
    bundles only kiln itself reads back."""
    from kiln import __version__
    from kiln.registry.flavors import detect_flavor, get_flavor
    from kiln.registry.flavors.base import wrap

    chosen = get_flavor(flavor) if flavor else detect_flavor(model)
    if signature is None and input_example is not None:
        wrapped = wrap(chosen, model)
        predict = getattr(wrapped, "predict", None) or wrapped
        output = predict(input_example) if callable(predict) else None
        signature = infer_signature(input_example, output)
    with tempfile.TemporaryDirectory(prefix="kiln-model-") as tmp:
        path = Path(tmp)
        from kiln.registry.flavors.base import SAFE_FORMAT

        token = SAFE_FORMAT.set(safe_format)
        try:
            flavor_meta = chosen.save(model, path)
        finally:
            SAFE_FORMAT.reset(token)
        if input_example is not None:
            (path / EXAMPLE_FILE).write_text(_example_json(input_example))
        meta = {
            "flavor": chosen.name,
            "flavor_meta": flavor_meta,
            "signature": signature.to_dict() if signature else None,
            "input_example": EXAMPLE_FILE if input_example is not None else None,
            "kiln_version": __version__,
            "python": platform.python_version(),
        }
        (path / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
        from kiln.artifacts.tree import put_tree

        stored = put_tree(artifacts, path)
    return SavedModel(stored.sha256, chosen.name, signature)


def load_bundle(
    artifacts: ArtifactStore,
    tree: str,
    model_version: ModelVersion | None = None,
    uri: str | None = None,
    *,
    user: str | None = None,
    writer: str | None = None,
    trusted: bool = False,
) -> LoadedModel:
    """Fetch a bundle (every file's hash verified) and load it with its flavor.

    When ``user`` is given, a bundle that runs code on loading is refused unless
    ``writer`` is that user or it is trusted (:mod:`kiln.registry.trust`)."""
    from kiln.artifacts.tree import get_tree

    tmp = Path(tempfile.mkdtemp(prefix="kiln-load-"))
    try:
        get_tree(artifacts, tree, tmp)
        return load_folder(tmp, model_version, uri, user=user, writer=writer, trusted=trusted)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_folder(
    path: Path,
    model_version: ModelVersion | None = None,
    uri: str | None = None,
    *,
    user: str | None = None,
    writer: str | None = None,
    trusted: bool = False,
) -> LoadedModel:
    """Load a bundle already written to ``path`` (trust checked as in :func:`load_bundle`)."""
    from kiln.registry.flavors import get_flavor
    from kiln.registry.flavors.base import unsafe_content
    from kiln.registry.trust import is_trusted, refuse

    meta = json.loads((path / META_FILE).read_text())
    flavor = get_flavor(meta["flavor"])
    flavor_meta = meta.get("flavor_meta", {})
    # without a user to check for, the caller vouches for the bundle (its own cache...)
    allowed = user is None or is_trusted(writer, user, trusted)
    if not allowed:
        content = unsafe_content(flavor, path, flavor_meta)
        if content:
            refuse(uri or str(path), flavor.name, content, writer, str(user))
    # flavors with a faster format for trusted bundles read this flag (sklearn's pickle copy)
    raw = flavor.load(path, {**flavor_meta, "trusted": allowed})
    sig = Signature.from_dict(meta["signature"]) if meta.get("signature") else None
    return LoadedModel(raw, meta["flavor"], sig, model_version, uri)


def read_meta(path: Path) -> tuple[str, Signature | None]:
    """The flavor name and signature of the bundle in ``path``, without loading the model."""
    meta = json.loads((path / META_FILE).read_text())
    sig = Signature.from_dict(meta["signature"]) if meta.get("signature") else None
    return str(meta["flavor"]), sig


def read_example(path: Path) -> Any:
    """The input example saved with the bundle in ``path`` (a DataFrame or an array), or None."""
    file = path / EXAMPLE_FILE
    if not file.is_file():
        return None
    import numpy as np
    import pandas as pd

    data = json.loads(file.read_text())
    if "columns" in data:
        return pd.DataFrame(data["data"], columns=data["columns"])
    return np.asarray(data["data"])


def _example_json(example: Any) -> str:
    import numpy as np
    import pandas as pd

    if isinstance(example, dict):
        example = pd.DataFrame(example)
    if isinstance(example, pd.DataFrame):
        return str(example.to_json(orient="split", index=False))
    return json.dumps({"data": np.asarray(example).tolist()})
