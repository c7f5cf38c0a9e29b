"""Pickle-based bundles another user wrote are refused unless trusted; safe formats load."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from kiln.exceptions import UntrustedModelError
from kiln.settings import Settings
from kiln.testing.flavor_examples import data, sklearn_model, xgboost_model
from kiln.workspace import Workspace


def _as(home: Path, user: str) -> Workspace:
    return Workspace(settings=Settings(home=home, user=user))


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A store where alice registered a pickle (pyfunc), a skops and an xgboost model."""
    X = data()[0].head(5)
    with _as(tmp_path, "alice") as alice:
        run = alice.create_run("shared")
        alice.log_model(run.run_id, lambda df: [1] * len(df), "rule")
        alice.log_model(None, sklearn_model(), "clf", input_example=X)
        alice.log_model(None, xgboost_model(), "boost", input_example=X)
        (tmp_path / "run_id").write_text(run.run_id)
    return tmp_path


def test_pickle_written_by_another_user_is_refused(shared: Path, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    monkeypatch.delenv("KILN_TRUST", raising=False)
    run_id = (shared / "run_id").read_text()
    with _as(shared, "bob") as bob:
        with pytest.raises(UntrustedModelError) as err:
            bob.load_model("models:/rule/1")
        message = str(err.value)
        assert "\n" not in message
        assert "'alice'" in message and "'bob'" in message and "cloudpickle" in message
        assert "trusted=True" in message and "KILN_TRUST" in message
        with pytest.raises(UntrustedModelError):
            bob.load_model(f"runs:/{run_id}/model")  # runs:/ URIs: the run's user wrote it
        assert bob.load_model("models:/rule/1", trusted=True).predict([{"a": 1}]) == [1]
        # safe formats need no trust: skops (only scikit-learn/numpy types) and native boosters
        X = data()[0].head(3)
        assert len(bob.load_model("models:/clf/1").predict(X)) == 3
        assert len(bob.load_model("models:/boost/1").predict(X)) == 3


def test_trust_by_environment_and_own_models(shared: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    with _as(shared, "alice") as alice:  # her own pickle: loads
        assert alice.load_model("models:/rule/1").predict([{"a": 1}]) == [1]
    with _as(shared, "bob") as bob:
        monkeypatch.setenv("KILN_TRUST", "carol,alice")
        assert bob.load_model("models:/rule/1").predict([{"a": 1}]) == [1]
        monkeypatch.setenv("KILN_TRUST", "carol")
        with pytest.raises(UntrustedModelError):
            bob.load_model("models:/rule/1")
        monkeypatch.setenv("KILN_TRUST", "1")
        assert bob.load_model("models:/rule/1").predict([{"a": 1}]) == [1]


def test_old_pickled_sklearn_versions_still_load_for_their_writer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A version saved before skops (model.pkl, no "format") loads, and counts as a pickle."""
    import json

    from kiln.artifacts.tree import put_tree
    from kiln.registry.model import META_FILE

    monkeypatch.delenv("KILN_TRUST", raising=False)
    model = sklearn_model()
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps(model, protocol=5))
    (folder / META_FILE).write_text(json.dumps({
        "flavor": "sklearn", "flavor_meta": {"file": "model.pkl", "class": "x"},
        "signature": None, "input_example": None}))
    X = data()[0].head(4)
    with _as(tmp_path / "home", "alice") as alice:
        tree = put_tree(alice.artifacts, folder).sha256
        alice._register("old", tree, "sklearn", None, None, "")
        assert alice.load_model("models:/old/1").predict(X).tolist() == model.predict(X).tolist()
    with _as(tmp_path / "home", "bob") as bob, pytest.raises(UntrustedModelError,
                                                              match="pickle"):
        bob.load_model("models:/old/1")


def test_safe_format_is_skipped_only_when_asked(ws: Workspace, tmp_path: Path) -> None:
    """log_model writes skops for scikit-learn; pipelines' step outputs (safe_format=False)
    keep only the pickle, which kiln itself reads back."""
    import json

    from sklearn.linear_model import LogisticRegression

    from kiln.artifacts.tree import get_tree
    from kiln.registry.model import META_FILE, load_bundle, save_model

    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    formats = {}
    for safe in (True, False):
        saved = save_model(ws.artifacts, model, safe_format=safe)
        folder = get_tree(ws.artifacts, saved.artifact, tmp_path / str(safe))
        meta = json.loads((folder / META_FILE).read_text())["flavor_meta"]
        formats[safe] = (meta["format"], sorted(p.name for p in folder.iterdir()))
        assert load_bundle(ws.artifacts, saved.artifact).raw.predict([[3.0]]).tolist() == [1]
    assert formats[True][0] == "skops" and "model.skops" in formats[True][1]
    assert formats[False][0] == "pickle" and "model.skops" not in formats[False][1]
