"""The search_runs filter language."""

from __future__ import annotations

import pytest

from kiln.exceptions import FilterSyntaxError
from kiln.metadata.filters import Clause, OrderKey, parse_filter, parse_order_by


def test_parses_every_form() -> None:
    text = ("metrics.auc > 0.9 and params.C = '1.0' AND tags.`my tag` LIKE 'a%' "
            "and metrics.val.loss <= -1e-3 and status IN ('FINISHED', 'FAILED') "
            "and attributes.name != \"x\" and params.\"odd key\" NOT IN ('a', 'b''c')")
    assert parse_filter(text) == [
        Clause("metric", "auc", ">", 0.9),
        Clause("param", "C", "=", "1.0"),
        Clause("tag", "my tag", "LIKE", "a%"),
        Clause("metric", "val.loss", "<=", -1e-3),
        Clause("attribute", "status", "IN", ("FINISHED", "FAILED")),
        Clause("attribute", "name", "!=", "x"),
        Clause("param", "odd key", "NOT IN", ("a", "b'c")),
    ]
    assert parse_filter("") == [] and parse_filter(None) == []


def test_order_by() -> None:
    assert parse_order_by(["metrics.auc DESC", "start_time", "params.C asc"]) == [
        OrderKey("metric", "auc", True), OrderKey("attribute", "start_time", False),
        OrderKey("param", "C", False)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.auc >> 1", "expected a number for metric 'auc'"),
        ("metrics.auc > 'high'", "expected a number"),
        ("params.C = 1", "expected a quoted string for param 'C'"),
        ("params.C < '1'", "an operator for param 'C'"),
        ("metrics.auc > 1 or metrics.f1 > 1", "expected 'and'"),
        ("bogus = 'x'", "expected metrics.<key>"),
        ("attributes.colour = 'x'", "unknown attribute 'colour'"),
        ("metrics.auc > 1 and", "found the end"),
        ("params.C IN ('a' 'b')", "',' or ')'"),
        ("params.C = 'x' ;", "unexpected ';'"),
    ],
)
def test_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(FilterSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_filter(text)


def test_bad_order_by() -> None:
    with pytest.raises(FilterSyntaxError, match="ASC, DESC"):
        parse_order_by("metrics.auc DOWN")
