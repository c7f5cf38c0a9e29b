"""Model URIs: ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, ``models:/NAME/latest``,
``runs:/RUN_ID/PATH``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiln.exceptions import InvalidArgumentError

ACCEPTED = "models:/NAME@ALIAS, models:/NAME/VERSION, models:/NAME/latest or runs:/RUN_ID/PATH"
NAME = re.compile(r"^[A-Za-z0-9][\w.\-]{0,254}$")
ALIAS = re.compile(r"^[A-Za-z_][\w\-]{0,254}$")


@dataclass(frozen=True)
class ModelRef:
    """A parsed URI: exactly one of ``alias`` / ``version`` / ``latest``, or a run artifact."""

    name: str = ""
    version: int | None = None
    alias: str | None = None
    run_id: str | None = None
    path: str = "model"


def parse_model_uri(uri: str) -> ModelRef:
    """Parse a model URI or raise naming it and the accepted forms."""
    if not isinstance(uri, str):
        raise InvalidArgumentError(f"model URI {uri!r} is not a string; accepted: {ACCEPTED}")
    if uri.startswith("runs:/"):
        run_id, _, path = uri.removeprefix("runs:/").strip("/").partition("/")
        if not run_id:
            raise InvalidArgumentError(f"model URI {uri!r} names no run; accepted: {ACCEPTED}")
        return ModelRef(run_id=run_id, path=path or "model")
    if not uri.startswith("models:/"):
        raise InvalidArgumentError(f"model URI {uri!r} is not accepted; accepted: {ACCEPTED}")
    body = uri.removeprefix("models:/").strip("/")
    if "@" in body:
        name, _, alias = body.partition("@")
        return ModelRef(name=check_name(name, uri), alias=check_alias(alias))
    name, _, ver = body.partition("/")
    check_name(name, uri)
    if ver in ("", "latest"):
        return ModelRef(name=name)
    return ModelRef(name=name, version=parse_version(ver))


def check_name(name: str, uri: str | None = None) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        where = f" in {uri!r}" if uri else ""
        raise InvalidArgumentError(
            f"model name {name!r}{where} is not accepted; use letters, digits, '_', '-', '.' "
            "(up to 255, starting with a letter or digit)"
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not ALIAS.match(alias) or alias.lower() == "latest":
        raise InvalidArgumentError(
            f"alias {alias!r} is not accepted; use a name of letters, digits, '_' or '-' "
            "starting with a letter (not 'latest')"
        )
    return alias


def parse_version(version: object) -> int:
    """A version number from an int or a string of digits (``'3'``, ``'v3'``)."""
    text = str(version).lower().removeprefix("v") if not isinstance(version, bool) else ""
    if isinstance(version, int) and not isinstance(version, bool) and version > 0:
        return version
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise InvalidArgumentError(
        f"model version {version!r} is not accepted; versions are positive integers"
    )
