"""Schema inference and validation: every anomaly kind, drift, YAML round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import kiln.data
from kiln.data import ColumnSchema, Schema, Thresholds, infer_schema
from kiln.data.validation import ks_2samp
from kiln.exceptions import InvalidArgumentError


def _frame(n: int = 5000, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "amount": rng.normal(100 + shift, 10, n),
        "count": rng.integers(0, 50, n),
        "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
        "active": rng.random(n) > 0.5,
    })


def _kinds(report: kiln.data.ValidationReport) -> dict[tuple[str, str | None], str]:
    return {(a.kind, a.column): a.severity for a in report.anomalies}


def test_inferred_schema_describes_the_frame() -> None:
    df = _frame()
    df.loc[:9, "amount"] = np.nan
    schema = infer_schema(df)
    amount, count, plan, active = (schema.column(c) for c in ("amount", "count", "plan",
                                                               "active"))
    assert (amount.type, amount.nullable, amount.null_fraction) == ("float", True, 0.002)
    assert amount.min is not None and amount.max is not None
    assert amount.min < df.amount.min() and amount.max > df.amount.max()
    assert amount.quantiles is not None and len(amount.quantiles) == 11
    assert (count.type, count.nullable) == ("int", False)
    assert count.min is not None and float(count.min).is_integer()
    assert (plan.type, plan.categories) == ("string", ["free", "pro", "team"])
    assert (active.type, active.categories) == ("bool", [False, True])
    assert schema.rows == 5000 and schema.duplicate_fraction == 0.0


def test_schema_round_trips_through_yaml_and_rejects_bad_input() -> None:
    schema = infer_schema(_frame(n=100))
    assert Schema.from_yaml(schema.to_yaml()) == schema
    with pytest.raises(InvalidArgumentError, match="type 'decimal'; accepted: bool, int"):
        Schema.from_dict({"columns": [{"name": "a", "type": "decimal"}]})
    with pytest.raises(InvalidArgumentError, match="unknown key 'bogus'"):
        Schema.from_dict({"columns": [{"name": "a", "type": "int", "bogus": 1}]})
    with pytest.raises(InvalidArgumentError, match="not valid YAML"):
        Schema.from_yaml("columns: [")
    with pytest.raises(InvalidArgumentError, match="'columns' list"):
        Schema.from_yaml("- 1")


def test_a_batch_like_the_reference_passes() -> None:
    ref, batch = _frame(seed=0), _frame(seed=1)
    report = kiln.data.validate(batch, infer_schema(ref), reference=ref)
    assert report.ok and report.anomalies == [], report.anomalies
    assert {d.column for d in report.drift} == {"amount", "count", "plan", "active"}


def test_each_anomaly_is_reported_with_its_severity() -> None:
    ref = _frame()
    schema = infer_schema(ref)
    bad = _frame(seed=3).drop(columns=["count"]).assign(extra=1)
    bad["active"] = bad["active"].astype(str)  # bool -> string
    bad.loc[:99, "amount"] = 10_000.0
    bad.loc[5:9, "plan"] = "enterprise"
    bad.loc[100:400, "amount"] = np.nan
    bad = pd.concat([bad, bad.iloc[:500]], ignore_index=True)
    kinds = _kinds(kiln.data.validate(bad, schema))
    assert kinds == {
        ("missing_column", "count"): "error",
        ("extra_column", "extra"): "warning",
        ("type_change", "active"): "error",
        ("out_of_range", "amount"): "error",
        ("unexpected_nulls", "amount"): "error",
        ("unseen_category", "plan"): "error",
        ("duplicates", None): "warning",
    }


def test_missing_rate_up_on_a_nullable_column_is_a_warning() -> None:
    ref = _frame()
    ref.loc[:49, "amount"] = np.nan  # 1% missing: nullable
    batch = _frame(seed=1)
    batch.loc[:999, "amount"] = np.nan  # 20% missing (and so rows repeat: allow that)
    report = kiln.data.validate(batch, infer_schema(ref), thresholds=Thresholds(duplicates=1))
    (anomaly,) = report.anomalies
    assert (anomaly.kind, anomaly.severity, anomaly.observed, anomaly.expected) == \
        ("missing_rate_up", "warning", 0.2, 0.01)
    assert report.ok


def test_int_becoming_float_is_only_a_warning() -> None:
    ref = _frame()
    batch = _frame(seed=1).assign(count=lambda f: f["count"].astype(float))
    kinds = _kinds(kiln.data.validate(batch, infer_schema(ref)))
    assert kinds == {("type_change", "count"): "warning"}


def test_drift_is_found_in_numbers_and_categories() -> None:
    ref = _frame()
    batch = _frame(seed=1, shift=5)
    rng = np.random.default_rng(9)
    batch["plan"] = rng.choice(["free", "pro", "team"], len(batch), p=[0.2, 0.3, 0.5])
    report = kiln.data.validate(batch, reference=ref)
    drifted = {(a.column, a.details["test"]) for a in report.anomalies if a.kind == "drift"}
    assert drifted == {("amount", "ks"), ("plan", "chi2+psi")}
    assert all(a.severity == "warning" for a in report.anomalies if a.kind == "drift")
    # A looser threshold lets the same shift pass.
    loose = kiln.data.validate(batch, reference=ref, thresholds=Thresholds(ks=0.9, psi=5))
    assert not [a for a in loose.anomalies if a.kind == "drift"]


def test_a_few_outliers_are_a_warning_unless_strict() -> None:
    ref = _frame()
    batch = _frame(seed=1)
    batch.loc[:2, "amount"] = 1e6
    (few,) = kiln.data.validate(batch, infer_schema(ref)).anomalies
    assert (few.kind, few.severity, few.details) == ("out_of_range", "warning", {"count": 3})
    strict = kiln.data.validate(batch, infer_schema(ref), thresholds=Thresholds(out_of_range=0))
    assert [a.severity for a in strict.anomalies] == ["error"]


def test_ks_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=3000), rng.normal(0.1, 1.0, size=2000)
    d, p = ks_2samp(a, b)
    ref = stats.ks_2samp(a, b, method="asymp")
    en = 3000 * 2000 / 5000
    assert d == pytest.approx(ref.statistic)
    assert p == pytest.approx(stats.kstwobign.sf(np.sqrt(en) * d))
    assert p == pytest.approx(ref.pvalue, rel=0.1)


def test_chi_square_matches_scipy() -> None:
    from kiln.data.validation import _categorical_drift

    cur = (["a", "b", "c"], np.array([50, 30, 20]))
    ref = (["a", "b", "c"], np.array([40, 40, 20]))
    result = _categorical_drift("x", cur, ref, Thresholds())
    expected = stats.chi2_contingency(np.array([[40, 40, 20], [50, 30, 20]]), correction=False)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)


def test_hand_written_schema_checks_ranges_and_sets() -> None:
    schema = Schema([
        ColumnSchema("amount", "float", nullable=False, min=0, max=120),
        ColumnSchema("plan", "string", nullable=False, categories=["free", "pro"]),
    ])
    df = _frame()[["amount", "plan"]]
    kinds = _kinds(kiln.data.validate(df, schema))
    assert kinds == {("out_of_range", "amount"): "error", ("unseen_category", "plan"): "error"}


def test_arrow_and_object_strings_validate_alike() -> None:
    df = pd.DataFrame({"s": pd.Series(["a", "b", None, "c"], dtype=object)})
    arrow = df.astype({"s": "string[pyarrow]"})
    schema = Schema([ColumnSchema("s", "string", nullable=False, categories=["a", "b"])])
    for frame in (df, arrow):
        kinds = _kinds(kiln.data.validate(frame, schema))
        assert kinds == {("unexpected_nulls", "s"): "error", ("unseen_category", "s"): "error"}


def test_validate_needs_something_to_compare_with() -> None:
    with pytest.raises(InvalidArgumentError, match="needs a schema, a reference"):
        kiln.data.validate(_frame(n=10))
    with pytest.raises(InvalidArgumentError, match="takes a pandas DataFrame"):
        infer_schema([1, 2])  # type: ignore[arg-type]
