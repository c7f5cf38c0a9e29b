"""Compact, JSON-safe profiles of a table: what drift is computed against.

A :class:`Profile` holds per column its kind, row and missing counts and, for numbers,
mean/std/min/max, a quantile sketch (``quantiles + 1`` evenly spaced quantiles), the
exact counts of values at and below each sketch point (the *grid*, which is what drift
compares), and a fixed-bin histogram for plots; for categories, the top-K value counts
with an ``other`` bucket. Its size depends on ``quantiles``, ``bins`` and ``top_k``, never
on the number of rows (about 13 KB of JSON per continuous numeric column with the
defaults, 2 KB for a discrete one, well under 1 KB for a category).

A window is profiled *against* a reference profile so both share the reference's grid,
histogram edges and categories; such window profiles merge exactly::

    >>> import numpy as np, pandas as pd
    >>> ref = Profile.from_frame(pd.DataFrame({"x": np.arange(5000.0), "c": ["a", "b"] * 2500}))
    >>> ref.column("x").kind, ref.column("c").frequencies
    ('numeric', [['a', 2500], ['b', 2500]])
    >>> hour = Profile.from_frame(pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "z"]}), reference=ref)
    >>> Profile.from_dict(hour.to_dict()) == hour
    True

Numbers are sorted once per column (numpy's vectorized sort); everything else is a
``searchsorted`` of the few sketch points into the sorted values, so profiling costs
about one sort per column. Datetimes are profiled as seconds since the epoch.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from kiln.data.schema import Schema

PROFILE_TYPE = "kiln.monitoring.Profile"
SCHEMA_VERSION = 1
KINDS = ("numeric", "categorical", "boolean", "datetime")
DEFAULT_BINS = 30  # histogram bins (plots and reports)
DEFAULT_QUANTILES = 200  # sketch intervals: 201 quantiles, exact counts at each
DEFAULT_TOP_K = 50  # category values kept by count; the rest go to ``other``
SMALL_SAMPLE = 1000  # up to this many values are kept as they are (exact small-sample tests)
NUMERIC_FREQUENCIES = 20  # numbers with at most this many distinct values keep their counts
PARALLEL_CELLS = 1_000_000  # frames at least this big are profiled a few columns at a time


@dataclass(frozen=True)
class ColumnProfile:
    """One column's summary; see the module docstring. Counts exclude missing values
    except ``count`` (every row) and ``missing`` (NaN, None, NaT and infinities).

    ``grid`` are the reference's distinct sketch points; ``grid_le[i]`` / ``grid_lt[i]``
    count this column's values ``<=`` / ``<`` ``grid[i]``; ``below_sum`` / ``above_sum``
    sum the values below the first / above the last grid point. ``hist_counts`` has
    ``len(hist_edges) + 1`` entries: values below the first edge, one per bin (the last
    bin includes its right edge), values above the last edge.
    """

    name: str
    kind: str
    count: int
    missing: int = 0
    dtype: str | None = None  # kiln.data's type name: bool, int, float, string, datetime...
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    quantiles: list[float] | None = None
    grid: list[float] | None = None
    grid_le: list[int] | None = None
    grid_lt: list[int] | None = None
    below_sum: float = 0.0
    above_sum: float = 0.0
    hist_edges: list[float] | None = None
    hist_counts: list[int] | None = None
    values: list[float] | None = None
    frequencies: list[list[Any]] | None = None
    other: int = 0
    distinct: int | None = None

    @property
    def valid(self) -> int:
        """Non-missing values."""
        return self.count - self.missing

    @property
    def missing_rate(self) -> float:
        return self.missing / self.count if self.count else 0.0

    def frequency_map(self) -> dict[Any, int]:
        """``{value: count}`` of the kept values (``other`` not included)."""
        return {v: int(c) for v, c in self.frequencies or []}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value is None or (key in ("below_sum", "above_sum", "other") and not value):
                continue
            out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: Any) -> ColumnProfile:
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or "name" not in data or "kind" not in data:
            raise InvalidArgumentError("a profile column needs at least 'name' and 'kind'")
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidArgumentError(
                f"profile column {data['name']!r} has unknown key {unknown[0]!r}; "
                f"accepted: {', '.join(sorted(known))}")
        if data["kind"] not in KINDS:
            raise InvalidArgumentError(
                f"profile column {data['name']!r} has kind {data['kind']!r}; "
                f"accepted: {', '.join(KINDS)}")
        return cls(**data)

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """Both windows' data in one profile.

        Exact for counts, moments, min/max, histograms and grids that share edges (window
        profiles made against the same reference), and kept values while they number at
        most ``SMALL_SAMPLE``. The quantile sketch of two different sketches is merged
        through their mixed CDFs (rank error at most one sketch interval); category
        counts are exact for every value either side kept, the rest stay in ``other``.
        """
        from kiln.monitoring import _sketch

        if other.kind != self.kind:
            raise InvalidArgumentError(
                f"cannot merge column {self.name!r}: it is {self.kind} here and "
                f"{other.kind} in the other profile")
        return _sketch.merge_columns(self, other)


@dataclass(frozen=True)
class Profile:
    """Per-column profiles of one table; build with :meth:`from_frame`."""

    columns: dict[str, ColumnProfile]
    rows: int
    quantiles: int = DEFAULT_QUANTILES
    bins: int = DEFAULT_BINS
    top_k: int = DEFAULT_TOP_K
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, bins: int = DEFAULT_BINS,
                   quantiles: int = DEFAULT_QUANTILES, top_k: int = DEFAULT_TOP_K,
                   reference: Profile | None = None,
                   columns: list[str] | None = None) -> Profile:
        """Profile ``df``. With ``reference``, each column shared with it is summarized on
        the reference's grid, histogram edges and category set (what drift and window
        merges need); ``columns`` limits the profile to those columns."""
        import pandas as pd

        from kiln.monitoring import _sketch

        if not isinstance(df, pd.DataFrame):
            raise InvalidArgumentError(
                f"Profile.from_frame takes a pandas DataFrame, not {type(df).__name__}")
        for label, value, least in (("bins", bins, 1), ("quantiles", quantiles, 2),
                                    ("top_k", top_k, 1)):
            if not isinstance(value, int) or value < least:
                raise InvalidArgumentError(
                    f"{label} must be an integer of at least {least}, not {value!r}")
        names = [str(c) for c in df.columns] if columns is None else list(columns)
        missing = [c for c in names if c not in df.columns]
        if missing:
            raise NotFoundError(
                f"column {missing[0]!r} is not in the frame; columns: "
                f"{', '.join(map(str, df.columns)) or 'none'}")
        if reference is not None:
            quantiles, bins, top_k = reference.quantiles, reference.bins, reference.top_k
        def one(name: str) -> ColumnProfile:
            ref_col = reference.columns.get(name) if reference is not None else None
            return _sketch.profile_column(name, df[name], quantiles=quantiles, bins=bins,
                                          top_k=top_k, reference=ref_col)

        workers = min(len(names), os.cpu_count() or 1, 4)
        if workers > 1 and len(df) * len(names) >= PARALLEL_CELLS:
            # numpy's sort and pyarrow's hashing release the GIL: columns in parallel
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                profiles = list(pool.map(one, names))
        else:
            profiles = [one(name) for name in names]
        return cls(dict(zip(names, profiles, strict=True)), rows=len(df), quantiles=quantiles,
                   bins=bins, top_k=top_k)

    def column(self, name: str) -> ColumnProfile:
        """The profile of column ``name`` (an error names the known columns)."""
        try:
            return self.columns[name]
        except KeyError:
            raise NotFoundError(
                f"profile has no column {name!r}; columns: "
                f"{', '.join(self.columns) or 'none'}") from None

    @property
    def empty(self) -> bool:
        return self.rows == 0

    def merge(self, other: Profile) -> Profile:
        """One profile of both tables (see :meth:`ColumnProfile.merge` for exactness);
        a column only one side has is kept as it is."""
        if not isinstance(other, Profile):
            raise InvalidArgumentError(
                f"Profile.merge takes a Profile, not {type(other).__name__}")
        cols = dict(self.columns)
        for name, col in other.columns.items():
            cols[name] = cols[name].merge(col) if name in cols else col
        return replace(self, columns=cols, rows=self.rows + other.rows,
                       meta={**other.meta, **self.meta})

    def to_dict(self) -> dict[str, Any]:
        return {"type": PROFILE_TYPE, "version": SCHEMA_VERSION, "rows": self.rows,
                "quantiles": self.quantiles, "bins": self.bins, "top_k": self.top_k,
                "meta": self.meta, "columns": [c.to_dict() for c in self.columns.values()]}

    @classmethod
    def from_dict(cls, data: Any) -> Profile:
        """Read :meth:`to_dict`'s form; anything else is one clear error."""
        data = check_saved(data, PROFILE_TYPE, SCHEMA_VERSION, "profile")
        cols = [ColumnProfile.from_dict(c) for c in data.get("columns", [])]
        return cls({c.name: c for c in cols}, rows=int(data["rows"]),
                   quantiles=int(data.get("quantiles", DEFAULT_QUANTILES)),
                   bins=int(data.get("bins", DEFAULT_BINS)),
                   top_k=int(data.get("top_k", DEFAULT_TOP_K)), meta=dict(data.get("meta", {})))

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        import json

        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidArgumentError(f"profile is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def to_schema(self) -> Schema:
        """A kiln.data :class:`~kiln.data.schema.Schema` of this profile (types, ranges
        widened like :func:`~kiln.data.schema.infer_schema`, closed category sets), for
        data-quality checks against the reference."""
        from kiln.data.schema import MAX_CATEGORIES, RANGE_MARGIN, ColumnSchema, Schema

        cols = []
        for c in self.columns.values():
            kind = c.dtype or {"numeric": "float", "boolean": "bool",
                               "datetime": "datetime"}.get(c.kind, "string")
            lo = hi = None
            if c.kind == "numeric" and c.min is not None and c.max is not None:
                margin = (c.max - c.min) * RANGE_MARGIN
                lo, hi = c.min - margin, c.max + margin
                if kind == "int":
                    lo, hi = float(math.floor(lo)), float(math.ceil(hi))
            cats = None
            if c.kind in ("categorical", "boolean") and not c.other and c.frequencies \
                    and len(c.frequencies) <= MAX_CATEGORIES:
                cats = sorted((v for v, _ in c.frequencies), key=lambda v: (str(type(v)), v))
            cols.append(ColumnSchema(
                c.name, kind, nullable=c.missing > 0, min=lo, max=hi, categories=cats,
                null_fraction=c.missing_rate, mean=c.mean, std=c.std, distinct=c.distinct))
        return Schema(cols, rows=self.rows)


def check_saved(data: Any, type_name: str, version: int, what: str) -> dict[str, Any]:
    """``data`` if it is the saved form of ``type_name`` at ``version``; else one clear
    error (shared by every monitoring result's ``from_dict``)."""
    if not isinstance(data, dict) or data.get("type") != type_name:
        got = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise InvalidArgumentError(
            f"not a kiln {what} (type {got!r}); expected type {type_name!r}")
    if data.get("version") != version:
        raise InvalidArgumentError(
            f"{what} version {data.get('version')!r} is not supported; "
            f"this kiln reads version {version}")
    return data


def sorted_finite(values: np.ndarray) -> np.ndarray:
    """The finite values of a float array, sorted."""
    import numpy as np

    finite = np.isfinite(values)
    if finite.all():  # the usual case: skip the masked copy
        out: np.ndarray = np.sort(values)
        return out
    kept: np.ndarray = values[finite]
    kept.sort()
    return kept
