"""``StatTestSuite``: the behaviour every drift test (built-in or plug-in) must show.

Subclass it and give it a ``stat_test`` fixture returning a
:class:`~kiln.monitoring.stattests.StatTest` (or its name); every test builds profiles of
synthetic data and checks the verdicts.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from kiln.monitoring.drift import DriftConfig, detect_drift
from kiln.monitoring.profile import Profile
from kiln.monitoring.stattests import StatTest, get_test


def _frames(n: int, seed: int, shift: float) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    share = [0.5 - shift / 2, 0.3, 0.2 + shift / 2]
    return pd.DataFrame({"x": rng.normal(shift, 1.0, n),
                         "c": rng.choice(["a", "b", "c"], n, p=share)})


class StatTestSuite:
    """Same distribution (2,000 and 20,000 rows a side): no drift; clearly shifted (300
    and 20,000): drift; figures JSON-safe; the verdict does not depend on how many rows
    the reference profile summarized. (Distances at their default thresholds are noisy
    below ~1000 rows, which is why the default picks p-value tests there.)"""

    @pytest.fixture
    def stat_test(self) -> StatTest | str:
        raise NotImplementedError("give the suite a stat_test fixture")

    def _columns(self, test: StatTest) -> list[str]:
        if test.numeric_only:
            return ["x"]
        return ["c"] if test.categorical_only else ["x", "c"]

    def _drift(self, test: StatTest, n_ref: int, n_cur: int, shift: float,
               seed: int = 1) -> Any:
        ref = Profile.from_frame(_frames(n_ref, seed, 0.0))
        cols = self._columns(test)
        config = DriftConfig(tests={c: test for c in cols})
        return detect_drift(ref, _frames(n_cur, seed + 100, shift), columns=cols, config=config)

    @pytest.mark.parametrize("n", [2_000, 20_000])
    def test_same_distribution_is_not_drift(self, stat_test: StatTest | str, n: int) -> None:
        test = get_test(stat_test)
        result = self._drift(test, n, n, 0.0)
        assert result.drifted_columns == [], result.to_dict()

    @pytest.mark.parametrize("n", [300, 20_000])
    def test_a_clear_shift_is_drift(self, stat_test: StatTest | str, n: int) -> None:
        test = get_test(stat_test)
        result = self._drift(test, n, n, 0.4)
        assert sorted(result.drifted_columns) == sorted(self._columns(test)), result.to_dict()

    def test_figures_are_json_safe_and_named(self, stat_test: StatTest | str) -> None:
        test = get_test(stat_test)
        result = self._drift(test, 5_000, 2_000, 0.2)
        json.dumps(result.to_dict(), allow_nan=False)
        for col in result.columns:
            assert col.test == test.name and col.statistic is not None
            assert math.isfinite(col.statistic)
            assert (col.p_value is not None) == (test.kind == "p_value")
            if col.p_value is not None:
                assert 0.0 <= col.p_value <= 1.0

    def test_verdict_does_not_depend_on_reference_size(self, stat_test: StatTest | str) -> None:
        test = get_test(stat_test)
        small = self._drift(test, 20_000, 5_000, 0.4, seed=3)
        large = self._drift(test, 200_000, 5_000, 0.4, seed=3)
        assert small.drifted_columns == large.drifted_columns
