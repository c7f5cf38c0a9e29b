"""Alert rules: a tiny expression language over a monitor's window statistics.

>>> rule = parse_rule("performance.roc_auc < 0.80 for 2 windows")
>>> (rule.path, rule.op, rule.threshold, rule.windows)
(('performance', 'roc_auc'), '<', 0.8, 2)

A rule is ``PATH OP NUMBER [for N window(s)]``. ``PATH`` is a dotted path into the
window's statistics (``drift.share_of_drifted_features``, ``performance.accuracy``,
``quality.missing_share``, ``drift.columns.age.statistic``, ``ab.p_value``); ``OP`` is
one of ``> >= < <= == !=``. A window without the figure (no traffic, no labels yet)
does not count for or against the rule.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.exceptions import InvalidArgumentError

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "==": operator.eq, "!=": operator.ne,
}
SECTIONS = ("drift", "prediction_drift", "quality", "performance", "ab", "rows", "labelled")
_TOKEN = re.compile(r"\s*(?:(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?)"
                    r"|(?P<op>>=|<=|==|!=|>|<)|(?P<word>[A-Za-z_][A-Za-z0-9_.\-]*))")
EXAMPLES = ("drift.share_of_drifted_features > 0.3", "performance.roc_auc < 0.80 for 2 windows")


@dataclass(frozen=True)
class Rule:
    """A parsed rule: ``path OP threshold``, true for ``windows`` windows in a row."""

    text: str
    path: tuple[str, ...]
    op: str
    threshold: float
    windows: int = 1

    def holds(self, value: float) -> bool:
        return OPS[self.op](value, self.threshold)

    def value_in(self, data: dict[str, Any]) -> float | None:
        """The figure the rule reads in one window's statistics, or ``None`` if absent."""
        node: Any = data
        for part in self.path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        if isinstance(node, bool):
            return float(node)
        if isinstance(node, int | float) and not math.isnan(float(node)):
            return float(node)
        return None

    def evaluate(self, history: Sequence[dict[str, Any]]) -> tuple[bool, float | None]:
        """Whether the rule fires given windows' statistics oldest first (the newest
        last), and the newest value. Windows without the figure are passed over."""
        values = [v for v in (self.value_in(d) for d in history) if v is not None]
        latest = self.value_in(history[-1]) if history else None
        if latest is None or len(values) < self.windows:
            return False, latest
        return all(self.holds(v) for v in values[-self.windows:]), latest


def _bad(text: str, token: str, expected: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"alert rule {text!r} does not parse at {token!r}: expected {expected}; e.g. "
        f"{EXAMPLES[0]!r} or {EXAMPLES[1]!r}")


def parse_rule(text: str) -> Rule:
    """Parse ``text``; one-line ``InvalidArgumentError`` naming the bad token otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError(f"alert rule {text!r} is empty; e.g. {EXAMPLES[0]!r}")
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None or m.end() == pos:
            bad = stripped[pos:].split()[0] if stripped[pos:].split() else stripped[pos:]
            raise _bad(text, bad, "a figure, an operator (> >= < <= == !=) or a number")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    it = iter(tokens)
    kind, value = next(it, ("end", "<end>"))
    if kind != "word" or ("." not in value and value not in ("rows", "labelled")):
        raise _bad(text, value, f"a figure such as drift.share_of_drifted_features "
                                f"(sections: {', '.join(SECTIONS)})")
    path = tuple(value.split("."))
    if path[0] not in SECTIONS or any(not p for p in path):
        raise _bad(text, value, f"a figure in one of the sections {', '.join(SECTIONS)}")
    kind, op = next(it, ("end", "<end>"))
    if kind != "op":
        raise _bad(text, op, "an operator: > >= < <= == !=")
    kind, num = next(it, ("end", "<end>"))
    if kind != "num":
        raise _bad(text, num, "a number")
    threshold = float(num[:-1]) / 100 if num.endswith("%") else float(num)
    windows = 1
    kind, word = next(it, ("end", ""))
    if kind != "end":
        if (kind, word.lower()) != ("word", "for"):
            raise _bad(text, word, "the end of the rule or 'for N windows'")
        kind, count = next(it, ("end", "<end>"))
        if kind != "num" or not count.isdigit() or int(count) < 1:
            raise _bad(text, count, "a whole number of windows (1 or more)")
        windows = int(count)
        kind, unit = next(it, ("end", "<end>"))
        if kind != "end":
            if unit.lower() not in ("window", "windows"):
                raise _bad(text, unit, "'windows'")
            kind, extra = next(it, ("end", ""))
            if kind != "end":
                raise _bad(text, extra, "the end of the rule")
    return Rule(text.strip(), path, op, threshold, windows)
