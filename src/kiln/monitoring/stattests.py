"""Drift tests as a plug-in point: one small :class:`StatTest` record per test.

A test compares a reference column profile with a window's and returns
``(statistic, p_value)``; ``kind`` says which of the two decides (``p_value``: drift when
``p < threshold``; ``distance``: drift when ``statistic >= threshold``). The built-in
tests (``ks``, ``wasserstein``, ``psi``, ``jensenshannon``, ``chisquare``, ``z``) live in
:mod:`kiln.monitoring._tests`; others are found by name through the ``kiln.drift_tests``
entry-point group (``name = "package.module:OBJECT"``), or passed as objects::

    from kiln.monitoring import DriftConfig
    from kiln.monitoring.stattests import StatTest

    def mean_shift(ref, cur, continuous):
        return abs((cur.mean or 0) - (ref.mean or 0)) / max(ref.std or 0, 1e-3), None

    cfg = DriftConfig(tests={"age": StatTest("mean_shift", "distance", 0.5, True, mean_shift)})

``kiln.testing.check_stat_test(test)`` checks a test behaves (no drift on the same
distribution, drift on a shifted one, JSON-safe figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiln.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from kiln.monitoring.profile import ColumnProfile

GROUP = "kiln.drift_tests"
BUILTIN = {name: f"kiln.monitoring._tests:{name.upper()}"
           for name in ("ks", "wasserstein", "psi", "jensenshannon", "chisquare", "z")}
KINDS = ("p_value", "distance")

# (reference, window, continuous) -> (statistic, p_value or None); ``continuous`` is false
# for categories and for numbers with few distinct values (compare value counts then).
Compute = Callable[["ColumnProfile", "ColumnProfile", bool], tuple[float, "float | None"]]


@dataclass(frozen=True)
class StatTest:
    """A drift test: its name, which figure decides (``kind``), the default
    ``threshold``, whether it needs continuous numbers (``numeric_only``) or value counts
    (``categorical_only``: categories, booleans, numbers with few distinct values), and
    ``compute``."""

    name: str
    kind: str
    threshold: float
    numeric_only: bool
    compute: Compute
    categorical_only: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidArgumentError(
                f"drift test {self.name!r} has kind {self.kind!r}; accepted: {', '.join(KINDS)}")

    def drifted(self, statistic: float, p_value: float | None, threshold: float) -> bool:
        if self.kind == "p_value":
            return p_value is not None and p_value < threshold
        return statistic >= threshold


def names() -> list[str]:
    """Every drift test name: the built-in ones and installed plug-ins."""
    from kiln._plugins import available

    return sorted(available(GROUP, BUILTIN))


def known(test: str) -> bool:
    """Whether ``test`` names a drift test (built-in names never scan entry points)."""
    return test in BUILTIN or test in names()


def get_test(test: str | StatTest) -> StatTest:
    """The :class:`StatTest` called ``test`` (an unknown name is one clear error)."""
    if isinstance(test, StatTest):
        return test
    found = _BUILTIN_CACHE.get(test) if isinstance(test, str) else None
    if found is not None:
        return found
    if not isinstance(test, str) or not known(test):
        raise InvalidArgumentError(
            f"drift test {test!r} is unknown; accepted: {', '.join(names())}")
    from kiln._plugins import load_plugin

    loaded = load_plugin(GROUP, BUILTIN, test, what="drift test")
    if not isinstance(loaded, StatTest):
        raise InvalidArgumentError(
            f"drift test {test!r} is a {type(loaded).__name__}, not a kiln StatTest")
    if test in BUILTIN:
        _BUILTIN_CACHE[test] = loaded
    return loaded


_BUILTIN_CACHE: dict[str, StatTest] = {}
