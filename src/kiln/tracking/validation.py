"""Checks on what users log, each failing with one line that names the value."""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from typing import Any

from kiln.exceptions import InvalidArgumentError

MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
_KEY = re.compile(r"^[\w\-. /:]+$")


def key(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_KEY or not _KEY.match(name):
        raise InvalidArgumentError(
            f"{kind} name {name!r} is not accepted; use 1-{MAX_KEY} characters of letters, "
            "digits, '_', '-', '.', ' ', '/' or ':'"
        )
    return name


def metric_value(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(
            f"metric {name!r} got {value!r} ({type(value).__name__}); metrics take a number "
            "(int or float)"
        )
    return float(value)


def step(name: str, value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(
            f"step {value!r} of metric {name!r} is not accepted; steps are integers"
        )
    return int(value)


def params(values: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in values.items():
        text = _stringify(v)
        if len(text) > MAX_PARAM_VALUE:
            raise InvalidArgumentError(
                f"param {k!r} is {len(text)} characters long; params hold at most "
                f"{MAX_PARAM_VALUE} (log long values as an artifact)"
            )
        out[key("param", k)] = text
    return out


def tags(values: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in values.items():
        text = _stringify(v)
        if len(text) > MAX_TAG_VALUE:
            raise InvalidArgumentError(
                f"tag {k!r} is {len(text)} characters long; tags hold at most {MAX_TAG_VALUE}"
            )
        out[key("tag", k)] = text
    return out


def _stringify(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
