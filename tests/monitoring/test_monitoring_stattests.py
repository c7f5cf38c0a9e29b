"""Every built-in drift test and a user's own pass the StatTestSuite conformance kit."""

from __future__ import annotations

import pandas as pd
import pytest

from kiln.exceptions import InvalidArgumentError
from kiln.monitoring import DriftConfig, Profile, detect_drift
from kiln.monitoring.profile import ColumnProfile
from kiln.monitoring.stattests import StatTest, get_test, names
from kiln.testing import StatTestSuite


@pytest.fixture(params=["ks", "wasserstein", "psi", "jensenshannon", "chisquare", "z"])
def builtin(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestBuiltinStatTests(StatTestSuite):
    @pytest.fixture
    def stat_test(self, builtin: str) -> str:
        return builtin


def mean_shift(ref: ColumnProfile, cur: ColumnProfile, continuous: bool) -> tuple[float, None]:
    return abs((cur.mean or 0.0) - (ref.mean or 0.0)) / max(ref.std or 0.0, 1e-3), None


MEAN_SHIFT = StatTest("mean_shift", "distance", 0.2, True, mean_shift)


class TestACustomStatTest(StatTestSuite):
    @pytest.fixture
    def stat_test(self) -> StatTest:
        return MEAN_SHIFT


def test_names_and_errors() -> None:
    assert {"ks", "wasserstein", "psi", "jensenshannon", "chisquare", "z"} <= set(names())
    assert get_test("ks").kind == "p_value" and get_test(MEAN_SHIFT) is MEAN_SHIFT
    with pytest.raises(InvalidArgumentError, match="'nope' is unknown; accepted: chisquare"):
        get_test("nope")
    with pytest.raises(InvalidArgumentError, match="kind 'score'"):
        StatTest("x", "score", 0.1, False, mean_shift)


def test_a_custom_test_in_a_config() -> None:
    ref = Profile.from_frame(pd.DataFrame({"x": [float(i % 10) for i in range(2000)]}))
    cfg = DriftConfig(tests={"x": MEAN_SHIFT}, thresholds={"x": 0.5})
    col = detect_drift(ref, pd.DataFrame({"x": [9.0] * 50}), config=cfg).column("x")
    assert col.test == "mean_shift" and col.threshold == 0.5 and col.drifted
