"""Best-effort checks of values against annotations, so wrong types fail before a run.

Anything the checker does not understand (generics it cannot inspect, string
annotations it cannot resolve) is accepted: a check never blocks valid code.
"""

from __future__ import annotations

import types
import typing
from typing import Any

_UNION_TYPES: tuple[Any, ...] = (typing.Union, types.UnionType)


def check_value(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits ``hint`` (``int`` is accepted for ``float``)."""
    if hint is Any or hint is None or hint is inspect_empty():
        return True
    origin = typing.get_origin(hint)
    if origin in _UNION_TYPES:
        return any(check_value(value, h) for h in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if origin is not None:
        if not isinstance(origin, type):
            return True
        if not isinstance(value, origin):
            return False
        args = typing.get_args(hint)
        if isinstance(value, list | set | frozenset) and args:
            return all(check_value(v, args[0]) for v in value)
        if isinstance(value, dict) and len(args) == 2:
            return all(check_value(k, args[0]) and check_value(v, args[1])
                       for k, v in value.items())
        return True
    if not isinstance(hint, type):
        return True
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def compatible(produced: Any, expected: Any) -> bool:
    """Whether an output annotated ``produced`` may feed a parameter annotated ``expected``."""
    if produced is None or expected is None or produced is Any or expected is Any:
        return True
    if typing.get_origin(expected) in _UNION_TYPES:
        return any(compatible(produced, e) for e in typing.get_args(expected))
    if typing.get_origin(produced) in _UNION_TYPES:
        return any(compatible(p, expected) for p in typing.get_args(produced))
    p = typing.get_origin(produced) or produced
    e = typing.get_origin(expected) or expected
    if not isinstance(p, type) or not isinstance(e, type):
        return True
    if e is float and p is int:
        return True
    return issubclass(p, e)


def describe(hint: Any) -> str:
    """A short readable name for an annotation."""
    if hint is None:
        return "any value"
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    return str(hint).replace("typing.", "")


def inspect_empty() -> Any:
    import inspect

    return inspect.Parameter.empty
