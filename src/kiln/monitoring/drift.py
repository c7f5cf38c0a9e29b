"""Data and prediction drift: each column of a window against a reference profile.

Which test, by default (the rules Evidently documents for its DataDriftPreset, so the
verdicts agree; thresholds are Evidently's defaults)::

    column                         either side <= 1000 values     both sides > 1000 values
    numeric, > 5 distinct values   Kolmogorov-Smirnov, p < 0.05   Wasserstein distance / std
                                                                  of the reference >= 0.1
    numeric with <= 5 distinct,    chi-square, p < 0.05 (z-test   Jensen-Shannon distance
    categorical, boolean           of proportions for 2 values)   (natural log) >= 0.1

- Evidently picks by the size of the reference alone; kiln by the smaller side, so a
  window of a few hundred rows is tested with a p-value rather than with a distance that
  is noisy at that size. With more than 1000 rows on both sides they choose the same test.
- chi-square is the two-sample test of homogeneity on the 2 x K table of counts (it
  handles categories the reference never saw); Evidently's is a goodness of fit to the
  reference's shares.
- Override per column with ``DriftConfig(tests={"age": "psi"})`` (``ks``, ``wasserstein``,
  ``psi``, ``jensenshannon``, ``chisquare``, ``z``, a plug-in's name or a
  :class:`~kiln.monitoring.stattests.StatTest`) and thresholds with
  ``thresholds={"age": 0.2}`` or per test ``test_thresholds={"psi": 0.2}``. PSI uses ten
  reference-quantile bins (shares clipped at 1e-4); ``jensenshannon``/``chisquare`` on a
  continuous column use the same bins.
- Datetime columns are not tested (time always moves on). A numeric column whose window
  holds text is reported as drifted with test ``type_change``.
- A window is *drifted* (``DriftResult.dataset_drift``) when at least ``drift_share``
  (0.5) of the tested columns drifted.

The reference is a :class:`~kiln.monitoring.profile.Profile`: numbers are compared on its
grid of sketch points (exact counts at each, linear between), so the cost depends on the
window and the sketch size, never on how many rows the reference had. The Wasserstein
distance is exact for discrete columns and for values outside the reference's range, and
within a small fraction of a percent of scipy's otherwise; KS is exact (scipy's
``ks_2samp``) when both sides have at most 1000 values and else measured at the grid points.
A window with no rows is ``empty`` and never reported as "no drift".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.monitoring.profile import ColumnProfile, Profile, check_saved
from kiln.monitoring.stattests import StatTest, get_test, known, names

if TYPE_CHECKING:
    import pandas as pd

RESULT_TYPE = "kiln.monitoring.DriftResult"
RESULT_VERSION = 1


@dataclass(frozen=True)
class DriftConfig:
    """How drift is decided; every default is documented in this module's docstring.

    ``small_sample``: at most this many values on either side picks the p-value tests.
    ``discrete_max``: numbers with at most this many distinct reference values are
    tested as categories. ``drift_share``: share of drifted columns that makes the window
    drifted. ``tests`` / ``thresholds``: per column overrides; ``test_thresholds``: per test.
    """

    small_sample: int = 1000
    discrete_max: int = 5
    drift_share: float = 0.5
    tests: Mapping[str, str | StatTest] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    test_thresholds: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for column, test in self.tests.items():
            if not isinstance(test, StatTest) and not known(test):
                raise InvalidArgumentError(
                    f"drift test {test!r} for column {column!r} is unknown; "
                    f"accepted: {', '.join(names())}")
        for test in self.test_thresholds:
            if not known(test):
                raise InvalidArgumentError(
                    f"threshold for unknown drift test {test!r}; "
                    f"accepted: {', '.join(names())}")

    def threshold(self, column: str, test: StatTest) -> float:
        if column in self.thresholds:
            return float(self.thresholds[column])
        return float(self.test_thresholds.get(test.name, test.threshold))


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict. For p-value tests ``drifted`` is ``p_value < threshold``;
    for distances ``statistic >= threshold``. ``test`` is ``"none"`` (and the figures
    ``None``) when either side has no values, ``"type_change"`` (drifted) when a numeric
    column arrives as text."""

    column: str
    kind: str
    test: str
    statistic: float | None
    threshold: float | None
    p_value: float | None
    drifted: bool
    n_reference: int
    n_current: int

    @property
    def empty(self) -> bool:
        return self.test == "none"

    @property
    def score(self) -> float | None:
        """The figure compared with the threshold (p-value or distance)."""
        return self.p_value if self.p_value is not None else self.statistic

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "test": self.test,
                "statistic": _finite(self.statistic), "threshold": self.threshold,
                "p_value": _finite(self.p_value), "drifted": self.drifted,
                "n_reference": self.n_reference, "n_current": self.n_current}


@dataclass(frozen=True)
class DriftResult:
    """Every tested column of one window; ``empty`` when the window had no rows."""

    columns: list[ColumnDrift]
    n_reference: int
    n_current: int
    drift_share: float = 0.5
    missing_columns: list[str] = field(default_factory=list)
    skipped_columns: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.n_current == 0

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def number_of_drifted_features(self) -> int:
        return len(self.drifted_columns)

    @property
    def share_of_drifted_features(self) -> float | None:
        """Drifted share of the tested columns; ``None`` for an empty window."""
        tested = [c for c in self.columns if not c.empty]
        if self.empty or not tested:
            return None
        return sum(c.drifted for c in tested) / len(tested)

    @property
    def dataset_drift(self) -> bool | None:
        share = self.share_of_drifted_features
        return None if share is None else share >= self.drift_share

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == name:
                return c
        raise NotFoundError(f"no drift result for column {name!r}; columns: "
                            f"{', '.join(c.column for c in self.columns) or 'none'}")

    def to_dict(self) -> dict[str, Any]:
        return {"type": RESULT_TYPE, "version": RESULT_VERSION, "empty": self.empty,
                "n_reference": self.n_reference, "n_current": self.n_current,
                "drift_share": self.drift_share,
                "share_of_drifted_features": self.share_of_drifted_features,
                "dataset_drift": self.dataset_drift, "drifted_columns": self.drifted_columns,
                "missing_columns": self.missing_columns,
                "skipped_columns": self.skipped_columns,
                "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Any) -> DriftResult:
        data = check_saved(data, RESULT_TYPE, RESULT_VERSION, "drift result")
        cols = [ColumnDrift(**c) for c in data["columns"]]
        return cls(cols, int(data["n_reference"]), int(data["n_current"]),
                   float(data.get("drift_share", 0.5)), list(data.get("missing_columns", [])),
                   list(data.get("skipped_columns", [])))


def detect_drift(reference: Profile | pd.DataFrame | dict[str, Any],
                 current: pd.DataFrame | Profile, *,
                 columns: Sequence[str] | None = None,
                 config: DriftConfig | None = None) -> DriftResult:
    """Test each column of ``current`` against ``reference`` (see the module docstring);
    ``reference`` may also be a stored profile's ``to_dict()`` form.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = Profile.from_frame(pd.DataFrame({"x": rng.normal(size=5000)}))
    >>> detect_drift(ref, pd.DataFrame({"x": rng.normal(1.0, size=5000)})).drifted_columns
    ['x']
    >>> detect_drift(ref, pd.DataFrame({"x": []})).empty
    True
    """
    import pandas as pd

    cfg = config or DriftConfig()
    if isinstance(reference, pd.DataFrame):
        reference = Profile.from_frame(reference)
    elif isinstance(reference, dict):
        reference = Profile.from_dict(reference)
    if not isinstance(reference, Profile):
        raise InvalidArgumentError(
            f"reference must be a Profile, its dict or a pandas DataFrame, not "
            f"{type(reference).__name__}")
    names = list(reference.columns) if columns is None else [str(c) for c in columns]
    unknown = [c for c in names if c not in reference.columns]
    if unknown:
        raise NotFoundError(f"column {unknown[0]!r} is not in the reference; columns: "
                            f"{', '.join(reference.columns) or 'none'}")
    if isinstance(current, pd.DataFrame):
        present = {str(c) for c in current.columns}
        current = Profile.from_frame(current, reference=reference,
                                     columns=[c for c in names if c in present])
    if not isinstance(current, Profile):
        raise InvalidArgumentError(
            f"current must be a pandas DataFrame or a Profile, not {type(current).__name__}")
    missing = [c for c in names if c not in current.columns]
    skipped = [c for c in names if c not in missing and reference.columns[c].kind == "datetime"]
    result = DriftResult([], reference.rows, current.rows, cfg.drift_share, missing, skipped)
    if current.rows == 0:
        return result
    for name in names:
        if name in missing or name in skipped:
            continue
        result.columns.append(column_drift(reference.columns[name], current.columns[name], cfg))
    return result


def column_drift(ref: ColumnProfile, cur: ColumnProfile,
                 config: DriftConfig | None = None) -> ColumnDrift:
    """The verdict for one column (its test chosen as the module docstring says)."""
    cfg = config or DriftConfig()
    kind = ref.kind
    n_ref, n_cur = ref.valid, cur.valid
    if not n_ref or not n_cur:
        return ColumnDrift(ref.name, kind, "none", None, None, None, False, n_ref, n_cur)
    continuous = kind == "numeric" and not (
        ref.distinct is not None and ref.distinct <= cfg.discrete_max
        and ref.frequencies is not None)
    if kind == "numeric" and cur.kind not in ("numeric", "boolean"):
        # values of another type cannot be compared: the column has changed, which is drift
        return ColumnDrift(ref.name, kind, "type_change", None, None, None, True, n_ref, n_cur)
    test = get_test(cfg.tests.get(ref.name) or _default_test(ref, cur, continuous, cfg))
    if test.numeric_only and kind != "numeric":
        raise InvalidArgumentError(
            f"drift test {test.name!r} needs a numeric column; {ref.name!r} is {kind}")
    if test.categorical_only and continuous:
        raise InvalidArgumentError(
            f"drift test {test.name!r} compares value counts; {ref.name!r} is a continuous "
            "numeric column")
    threshold = cfg.threshold(ref.name, test)
    statistic, p_value = test.compute(ref, cur, continuous)
    return ColumnDrift(ref.name, kind, test.name, float(statistic), threshold,
                       None if p_value is None else float(p_value),
                       test.drifted(statistic, p_value, threshold), n_ref, n_cur)


def _default_test(ref: ColumnProfile, cur: ColumnProfile, continuous: bool,
                  cfg: DriftConfig) -> str:
    small = min(ref.valid, cur.valid) <= cfg.small_sample
    if continuous:
        return "ks" if small else "wasserstein"
    if not small:
        return "jensenshannon"
    keys = {str(v) for v, _ in [*(ref.frequencies or []), *(cur.frequencies or [])]}
    return "chisquare" if len(keys) + bool(ref.other or cur.other) > 2 else "z"


def _finite(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None

