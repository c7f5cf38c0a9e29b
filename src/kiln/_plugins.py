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


def _entry_points(group: str) -> tuple[tuple[str, str], ...]:
    """The group's installed entry points."""
    return _all_entry_points().get(group, ())


@functools.cache
def _all_entry_points() -> dict[str, tuple[tuple[str, str], ...]]:
    """Every installed entry point by group, read once per process: one scan of the
    installed distributions (10 ms or more) instead of one per group and call."""
    from importlib.metadata import distributions

    found: dict[str, list[tuple[str, str]]] = {}
    seen: set[str] = set()
    for dist in distributions():  # the first of a name on sys.path wins, as in Python's own
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for ep in dist.entry_points:
            found.setdefault(ep.group, []).append((ep.name, ep.value))
    return {group: tuple(eps) for group, eps in found.items()}


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
