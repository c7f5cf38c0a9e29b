"""The ``server`` and ``token`` settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln.exceptions import ConfigError
from kiln.settings import Settings


def test_server_and_token_come_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("KILN_SERVER", "http://kiln.internal:5000")
    monkeypatch.setenv("KILN_TOKEN", "kiln_secret")
    s = Settings.load(tmp_path)
    assert (s.server, s.token) == ("http://kiln.internal:5000", "kiln_secret")
    assert "kiln_secret" not in repr(s)


def test_server_in_kiln_yaml_and_bad_urls(tmp_path: Path) -> None:
    (tmp_path / "kiln.yaml").write_text("server: https://kiln.example.com\n")
    assert Settings.load(tmp_path).server == "https://kiln.example.com"
    with pytest.raises(ConfigError, match="server='kiln:5000' is not accepted"):
        Settings(server="kiln:5000")


def test_workspace_repr_names_the_server_not_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    import kiln

    monkeypatch.setenv("KILN_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("KILN_TOKEN", "kiln_secret")
    ws = kiln.Workspace()  # no request is made until something is asked
    assert repr(ws) == "Workspace(server='http://127.0.0.1:9')"
    assert "kiln_secret" not in repr(ws.store) + repr(ws.artifacts)
    ws.close()
