"""Alert rules: parsing (one line naming the bad token) and evaluation over windows."""

from __future__ import annotations

import pytest

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring.rules import parse_rule


def test_rules_parse_with_and_without_a_window_count() -> None:
    r = parse_rule("drift.share_of_drifted_features > 0.3")
    assert (r.path, r.op, r.threshold, r.windows) == (("drift", "share_of_drifted_features"),
                                                      ">", 0.3, 1)
    r = parse_rule("performance.roc_auc<0.80 for 2 windows")
    assert (r.path, r.op, r.threshold, r.windows) == (("performance", "roc_auc"), "<", 0.8, 2)
    assert parse_rule("quality.missing_share >= 5%").threshold == pytest.approx(0.05)
    assert parse_rule("drift.columns.age.statistic != 0 for 1 window").path[-1] == "statistic"


@pytest.mark.parametrize(("text", "token"), [
    ("drift.share >> 0.3", "'>'"),
    ("perf.auc < 0.8", "'perf.auc'"),
    ("drift.share < high", "'high'"),
    ("drift.share < 0.3 for two windows", "'two'"),
    ("drift.share < 0.3 during 2 windows", "'during'"),
    ("drift.share < 0.3 for 2 hours", "'hours'"),
    ("drift.share ~ 0.3", "'~'"),
    ("", "empty"),
])
def test_bad_rules_name_the_token(text: str, token: str) -> None:
    with pytest.raises(InvalidArgumentError, match=token) as info:
        parse_rule(text)
    assert "\n" not in str(info.value)


def test_rules_evaluate_over_consecutive_windows_with_the_figure() -> None:
    rule = parse_rule("performance.roc_auc < 0.8 for 2 windows")
    w = [{"performance": {"roc_auc": 0.7}}, {"drift": {}}, {"performance": {"roc_auc": 0.75}}]
    assert rule.evaluate(w) == (True, 0.75)
    assert rule.evaluate(w[:1]) == (False, 0.7)  # one window is not two
    assert rule.evaluate([{"performance": {"roc_auc": 0.9}}, w[2]]) == (False, 0.75)
    # the newest window lacks the figure (no labels yet): no verdict
    assert rule.evaluate([*w, {"drift": {}}]) == (False, None)
    drift = parse_rule("prediction_drift.drifted == 1")
    assert drift.evaluate([{"prediction_drift": {"drifted": True}}]) == (True, 1.0)
