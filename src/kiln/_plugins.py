"""Plug-in lookup: a short-name table of dotted paths, extended by an entry-point group.

Nothing is imported until a name is asked for.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import Any

from kiln.exceptions import ConfigError


def available(group: str, builtin: Mapping[str, str]) -> dict[str, str]:
    """Every name known for ``group``: the built-in table plus installed entry points."""
    names = dict(builtin)
    for name, value in _entry_points(group):
        names.setdefault(name, value)
    return names


@functools.cache
def _entry_points(group: str) -> tuple[tuple[str, str], ...]:
    """The group's installed entry points, read once per process (a scan of every
    installed distribution costs about 10 ms, paid on each model save otherwise)."""
    from importlib.metadata import entry_points

    return tuple((ep.name, ep.value) for ep in entry_points(group=group))


def load_plugin(group: str, builtin: Mapping[str, str], name: str, *, what: str) -> Any:
    """Import and return the object registered as ``name``."""
    target = builtin.get(name)
    if target is None:
        target = available(group, builtin).get(name)
    if target is None:
        accepted = ", ".join(sorted(available(group, builtin)))
        raise ConfigError(f"{what} {name!r} is not known; accepted: {accepted}")
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module
