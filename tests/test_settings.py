"""Settings: environment, then kiln.yaml, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.exceptions import ConfigError
from kiln.settings import Settings


def test_defaults_derive_from_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KILN_HOME")
    s = Settings.load(project_dir=tmp_path)
    assert s.home == Path(".kiln")
    assert s.db_url == "sqlite:///.kiln/kiln.db"
    assert s.artifacts_url == ".kiln/artifacts"
    assert s.metric_flush_interval == 1.0


def test_env_beats_yaml_beats_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kiln.yaml").write_text("home: /srv/kiln\nartifacts_url: s3://bucket/a\n"
                                        "metric_flush_interval: 5\n")
    monkeypatch.delenv("KILN_HOME")
    monkeypatch.setenv("KILN_ARTIFACTS_URL", "/data/artifacts")
    s = Settings.load(project_dir=tmp_path)
    assert s.home == Path("/srv/kiln") and s.db_url == "sqlite:////srv/kiln/kiln.db"
    assert s.artifacts_url == "/data/artifacts" and s.metric_flush_interval == 5.0
    assert Settings.load(project_dir=tmp_path, db_url="sqlite:///x.db").db_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [("dburl: x\n", "unknown setting 'dburl'"), ("[1, 2]\n", "must hold a mapping"),
     ("home: [\n", "is not valid YAML"), ("metric_flush_interval: -1\n", "positive")],
)
def test_bad_yaml_is_named(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "kiln.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        Settings.load(project_dir=tmp_path)
