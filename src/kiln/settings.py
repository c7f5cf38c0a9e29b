"""The one typed settings object: ``KILN_*`` variables, then ``kiln.yaml``, then defaults.

>>> from kiln.settings import Settings
>>> s = Settings.load()
>>> s.db_url.startswith(("sqlite", "postgresql"))
True
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.exceptions import ConfigError

_FIELDS = (
    "home", "db_url", "artifacts_url", "user", "metric_flush_interval", "online_store", "server",
    "token",
)


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with :meth:`load`; pass explicit values to override.

    ``home`` is the project's kiln folder (``KILN_HOME``, default ``./.kiln``);
    ``db_url`` defaults to a SQLite file in it and ``artifacts_url`` to a folder in it;
    ``online_store`` (features served online) defaults to ``sqlite:///<home>/online.db``,
    ``redis://HOST:PORT/DB`` for production.
    ``server`` (``KILN_SERVER=http://host:5000``) makes the workspace talk to a kiln
    server instead, sending ``token`` (``KILN_TOKEN``) as its API token.
    """

    home: Path = field(default_factory=lambda: Path(".kiln"))
    db_url: str = ""
    artifacts_url: str = ""
    user: str = ""
    metric_flush_interval: float = 1.0
    online_store: str = ""
    server: str = ""
    token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        home = Path(self.home).expanduser()
        object.__setattr__(self, "home", home)
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{home / 'kiln.db'}")
        if not self.artifacts_url:
            object.__setattr__(self, "artifacts_url", str(home / "artifacts"))
        if not self.online_store:
            object.__setattr__(self, "online_store", f"sqlite:///{home / 'online.db'}")
        if not self.user:
            object.__setattr__(self, "user", _current_user())
        if self.server and not self.server.startswith(("http://", "https://")):
            raise ConfigError(
                f"server={self.server!r} is not accepted; use http://HOST:PORT or https://..."
            )
        if self.metric_flush_interval <= 0:
            raise ConfigError(
                f"metric_flush_interval={self.metric_flush_interval!r} is not accepted; "
                "use a positive number of seconds"
            )

    @classmethod
    def load(cls, project_dir: Path | None = None, **overrides: Any) -> Settings:
        """Read ``KILN_*`` variables, then ``kiln.yaml`` in ``project_dir`` (default: cwd).

        Explicit ``overrides`` that are not ``None`` win over both.
        """
        values: dict[str, Any] = _read_yaml((project_dir or Path.cwd()) / "kiln.yaml")
        for name in _FIELDS:
            env = os.environ.get(f"KILN_{name.upper()}")
            if env:
                values[name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = sorted(set(values) - set(_FIELDS))
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]!r} in kiln.yaml; accepted: {', '.join(_FIELDS)}"
            )
        if "metric_flush_interval" in values:
            raw = values["metric_flush_interval"]
            try:
                values["metric_flush_interval"] = float(raw)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"metric_flush_interval={raw!r} is not a number of seconds"
                ) from None
        if "home" in values:
            values["home"] = Path(str(values["home"]))
        return cls(**values)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, not {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
