"""The ``search_runs`` filter and ``order_by`` language, parsed into typed clauses.

A filter is comparisons joined by ``and``::

    metrics.auc > 0.9 and params.C = '1.0' and tags.team LIKE 'ri%' and status IN ('FINISHED')

Left side: ``metrics.<key>``, ``params.<key>``, ``tags.<key>`` or an attribute
(``run_id``, ``name``, ``status``, ``user``, ``start_time``, ``end_time``,
optionally written ``attributes.<name>``). Keys with spaces or dots are quoted
with backticks or double quotes. Operators: ``= != < <= > >= LIKE ILIKE IN
NOT IN``. Metrics and the time attributes compare with numbers, everything
else with quoted strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from kiln.exceptions import FilterSyntaxError

Kind = Literal["metric", "param", "tag", "attribute"]
Value = float | str | tuple[float | str, ...]

ATTRIBUTES = {
    "run_id": "string",
    "name": "string",
    "status": "string",
    "user": "string",
    "start_time": "number",
    "end_time": "number",
}
_PREFIXES: dict[str, Kind] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "parameters": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPERATORS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<backtick>`[^`]*`)
      | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<punct>[(),.])
      | (?P<word>[A-Za-z_][\w\-]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One comparison: ``<kind>.<key> <op> <value>``."""

    kind: Kind
    key: str
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One ``order_by`` term."""

    kind: Kind
    key: str
    descending: bool


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None or m.lastgroup is None:
            bad = stripped[pos:].strip()[:20]
            raise FilterSyntaxError(
                f"invalid filter {text!r}: unexpected {bad!r} at position {pos}"
            )
        tokens.append(_Tok(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.tokens = _tokenize(text)
        self.i = 0

    def fail(self, expected: str) -> FilterSyntaxError:
        if self.i < len(self.tokens):
            tok = self.tokens[self.i]
            found = f"{tok.text!r} at position {tok.pos}"
        else:
            found = "the end"
        return FilterSyntaxError(
            f"invalid {self.what} {self.text!r}: expected {expected}, found {found}"
        )

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Tok | None:
        tok = self.peek()
        if tok is not None:
            self.i += 1
        return tok

    def peek_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.text.upper() in words

    def identifier(self) -> tuple[Kind, str]:
        tok = self.take()
        expected = "metrics.<key>, params.<key>, tags.<key> or an attribute"
        if tok is None or tok.kind not in ("word", "backtick", "string"):
            self.i -= tok is not None
            raise self.fail(expected)
        head = _unquote(tok)
        nxt = self.peek()
        if tok.kind == "word" and nxt is not None and nxt.text == "." and head in _PREFIXES:
            self.i += 1
            kind = _PREFIXES[head]
            key_tok = self.take()
            if key_tok is None or key_tok.kind not in ("word", "backtick", "string", "number"):
                self.i -= key_tok is not None
                raise self.fail(f"a key after {head}.")
            key = _unquote(key_tok)
            # Unquoted keys may contain dots: metrics.val.loss
            while (
                key_tok.kind == "word"
                and (dot := self.peek()) is not None
                and dot.text == "."
                and self.i + 1 < len(self.tokens)
                and self.tokens[self.i + 1].kind == "word"
            ):
                self.i += 1
                key_tok = self.tokens[self.i]
                key += "." + key_tok.text
                self.i += 1
        elif tok.kind == "word" and head.lower() in ATTRIBUTES:
            kind, key = "attribute", head.lower()
        else:
            self.i -= 1
            raise self.fail(expected)
        if kind == "attribute" and key.lower() not in ATTRIBUTES:
            raise FilterSyntaxError(
                f"invalid {self.what} {self.text!r}: unknown attribute {key!r}; "
                f"accepted: {', '.join(ATTRIBUTES)}"
            )
        return kind, key.lower() if kind == "attribute" else key


def _unquote(tok: _Tok) -> str:
    if tok.kind in ("string", "backtick"):
        body = tok.text[1:-1]
        if tok.text[0] == "'":
            body = body.replace("''", "'")
        return re.sub(r"\\(.)", r"\1", body) if tok.kind == "string" else body
    return tok.text


def _is_numeric(kind: Kind, key: str) -> bool:
    return kind == "metric" or (kind == "attribute" and ATTRIBUTES[key] == "number")


def parse_filter(text: str | None) -> list[Clause]:
    """Parse a filter string into clauses (empty or ``None`` means no filter)."""
    if text is None or not text.strip():
        return []
    p = _Parser(text, "filter")
    clauses: list[Clause] = []
    while True:
        kind, key = p.identifier()
        clauses.append(_comparison(p, kind, key))
        if p.peek() is None:
            return clauses
        if not p.peek_word("AND"):
            raise p.fail("'and' or the end of the filter")
        p.take()


def _comparison(p: _Parser, kind: Kind, key: str) -> Clause:
    numeric = _is_numeric(kind, key)
    tok = p.take()
    if tok is None:
        raise p.fail("an operator (= != < <= > >= LIKE ILIKE IN NOT IN)")
    op = tok.text.upper()
    if op == "NOT" and p.peek_word("IN"):
        p.take()
        op = "NOT IN"
    allowed = (*COMPARISONS, "IN", "NOT IN") if numeric else STRING_OPERATORS
    if op not in allowed:
        p.i -= 1
        raise p.fail(f"an operator for {kind} {key!r} ({' '.join(allowed)})")
    if op in ("IN", "NOT IN"):
        return Clause(kind, key, op, _value_list(p, kind, key, numeric))
    return Clause(kind, key, op, _value(p, kind, key, numeric))


def _value(p: _Parser, kind: Kind, key: str, numeric: bool) -> float | str:
    tok = p.take()
    if numeric:
        if tok is None or tok.kind != "number":
            p.i -= tok is not None
            raise p.fail(f"a number for {kind} {key!r} (metrics compare with numbers)")
        return float(tok.text)
    if tok is None or tok.kind != "string":
        p.i -= tok is not None
        raise p.fail(f"a quoted string for {kind} {key!r}, such as '1.0'")
    return _unquote(tok)


def _value_list(p: _Parser, kind: Kind, key: str, numeric: bool) -> tuple[float | str, ...]:
    tok = p.take()
    if tok is None or tok.text != "(":
        p.i -= tok is not None
        raise p.fail("'(' after IN")
    values = [_value(p, kind, key, numeric)]
    while (tok := p.take()) is not None and tok.text == ",":
        values.append(_value(p, kind, key, numeric))
    if tok is None or tok.text != ")":
        p.i -= tok is not None
        raise p.fail("',' or ')' in the IN list")
    return tuple(values)


def parse_order_by(terms: list[str] | tuple[str, ...] | str | None) -> list[OrderKey]:
    """Parse ``order_by`` terms such as ``"metrics.auc DESC"`` or ``"start_time"``."""
    if terms is None:
        return []
    if isinstance(terms, str):
        terms = [terms]
    keys: list[OrderKey] = []
    for term in terms:
        p = _Parser(term, "order_by")
        kind, key = p.identifier()
        descending = False
        if p.peek_word("ASC", "DESC"):
            tok = p.take()
            descending = tok is not None and tok.text.upper() == "DESC"
        if p.peek() is not None:
            raise p.fail("ASC, DESC or the end of the term")
        keys.append(OrderKey(kind, key, descending))
    return keys
