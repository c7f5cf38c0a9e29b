"""Cache keys: the hash of a step's code, its parameters and its inputs' content hashes.

A step's code is its function's source plus the source of every function (or
step) of the same module that it calls, followed transitively, so editing a
helper re-runs the steps that use it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import types
from collections.abc import Callable
from typing import Any

CACHE_VERSION = "kiln.step/1"
_code_hashes: dict[tuple[int, int], str] = {}


def code_hash(fn: Callable[..., Any]) -> str:
    """sha256 of ``fn``'s source and of the same-module functions it calls."""
    code = getattr(fn, "__code__", None)
    key = (id(fn), id(code))
    cached = _code_hashes.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    for part in _sources(fn, set()):
        digest.update(part.encode())
        digest.update(b"\0")
    value = digest.hexdigest()
    _code_hashes[key] = value
    return value


def _sources(fn: Callable[..., Any], seen: set[int]) -> list[str]:
    inner = getattr(fn, "fn", fn)  # a Step wraps its function
    if id(inner) in seen:
        return []
    seen.add(id(inner))
    parts = [f"{getattr(inner, '__qualname__', '?')}:{_source(inner)}"]
    module = getattr(inner, "__module__", None)
    glb = getattr(inner, "__globals__", {})
    code = getattr(inner, "__code__", None)
    if code is None:
        return parts
    for name in sorted(_names(code)):
        target = glb.get(name)
        target_fn = getattr(target, "fn", target)
        if (isinstance(target_fn, types.FunctionType)
                and getattr(target_fn, "__module__", None) == module):
            parts.extend(_sources(target_fn, seen))
    return parts


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _source(fn: Any) -> str:
    try:
        return str(inspect.getsource(fn))
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        if code is None:
            return repr(fn)
        return str(code.co_code.hex()) + repr(code.co_consts)


def canonical(value: Any) -> str:
    """A stable text form of a JSON-like parameter value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def cache_key(code: str, params: dict[str, Any], inputs: list[str], n_outputs: int) -> str:
    """The cache key of one step call."""
    digest = hashlib.sha256()
    digest.update(canonical([CACHE_VERSION, code, params, inputs, n_outputs]).encode())
    return digest.hexdigest()
