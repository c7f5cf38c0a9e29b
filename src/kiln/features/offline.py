"""The offline side, on DuckDB: source checks, point-in-time training sets, latest values.

Everything runs as one DuckDB query over the Parquet files (or the SQL query) of
each view, so history is scanned by DuckDB and never loaded into pandas.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.features.definitions import DTYPES, DatasetSource, FeatureView, ParquetSource

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

ROW = "__kiln_row"
ETS = "__kiln_ts"
VTS = "__kiln_vts"
TS_MS = "__kiln_ts_ms"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection with kiln's session settings (spill dir); without
    the ICU extension DuckDB reads every TIMESTAMP as UTC, which is what kiln wants."""
    import duckdb

    con = duckdb.connect()
    spill = Path(tempfile.gettempdir()) / "kiln-duckdb"
    con.execute(f"SET temp_directory = '{spill.as_posix()}'")
    return con


def source_sql(view: FeatureView) -> str:
    """A FROM-clause expression reading the view's source."""
    src = view.source
    if isinstance(src, ParquetSource):
        path = Path(src.path).expanduser()
        if path.is_dir():
            target = (path / "**" / "*.parquet").as_posix()
        elif path.exists() or any(c in src.path for c in "*?["):
            target = path.as_posix()
        else:
            raise NotFoundError(
                f"source {src.path!r} of feature view {view.name!r} does not exist; "
                "give an existing Parquet file, directory or glob"
            )
        return f"read_parquet('{_literal(target)}', union_by_name = true)"
    if isinstance(src, DatasetSource):
        if not src.files:
            raise InvalidArgumentError(
                f"dataset source {src.ref!r} of feature view {view.name!r} is not resolved; "
                "use it through a Workspace (apply, get_training_set, materialize)"
            )
        listed = ", ".join(f"'{_literal(f)}'" for f in src.files)
        return f"read_parquet([{listed}], union_by_name = true)"
    return f"({src.query})"


def source_columns(con: duckdb.DuckDBPyConnection, view: FeatureView) -> dict[str, str]:
    """Column name -> DuckDB type of the view's source (reads metadata only)."""
    import duckdb

    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {source_sql(view)}").fetchall()
    except duckdb.Error as exc:
        raise InvalidArgumentError(
            f"source of feature view {view.name!r} cannot be read: {_first_line(exc)}"
        ) from None
    return {str(r[0]): str(r[1]) for r in rows}


def check_source(view: FeatureView, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Raise ``InvalidArgumentError`` naming every missing timestamp/join key/feature column."""
    own = con is None
    con = con or connect()
    try:
        columns = source_columns(con, view)
    finally:
        if own:
            con.close()
    missing = [f"{view.timestamp_field!r} (timestamp field)"] \
        if view.timestamp_field not in columns else []
    missing += [f"{k!r} (join key)" for k in view.join_keys if k not in columns]
    missing += [f"{f!r} (feature)" for f in view.feature_names if f not in columns]
    if missing:
        raise InvalidArgumentError(
            f"source of feature view {view.name!r} has no column {', '.join(missing)}; "
            f"its columns: {', '.join(columns)}"
        )
    ts_type = columns[view.timestamp_field]
    if not (ts_type.startswith("TIMESTAMP") or ts_type == "DATE"):
        raise InvalidArgumentError(
            f"timestamp field {view.timestamp_field!r} of feature view {view.name!r} has type "
            f"{ts_type}; accepted: TIMESTAMP, TIMESTAMP WITH TIME ZONE, DATE"
        )


def training_set(
    entity_df: pd.DataFrame,
    requests: Sequence[tuple[FeatureView, Sequence[str]]],
    *,
    timestamp_column: str = "event_timestamp",
    full_feature_names: bool = False,
) -> pd.DataFrame:
    """``entity_df`` with the requested features of each view joined as of each row's
    timestamp (latest event at or before it, no older than the view's ttl).

    Every entity row is kept, in order, with nulls where there is no history.
    """
    import duckdb
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if not isinstance(entity_df, pd.DataFrame):
        raise InvalidArgumentError(
            f"entity_df must be a pandas DataFrame with join keys and {timestamp_column!r}, "
            f"not {type(entity_df).__name__}"
        )
    if timestamp_column not in entity_df.columns:
        raise InvalidArgumentError(
            f"entity frame has no timestamp column {timestamp_column!r}; its columns: "
            f"{', '.join(map(str, entity_df.columns))}"
        )
    taken = {str(c) for c in entity_df.columns}
    select: list[str] = []
    needed = {timestamp_column}
    joins: list[str] = []
    for i, (view, features) in enumerate(requests):
        for key in view.join_keys:
            if key not in taken:
                raise InvalidArgumentError(
                    f"entity frame has no column {key!r} (join key of feature view "
                    f"{view.name!r}); its columns: {', '.join(map(str, entity_df.columns))}"
                )
        needed.update(view.join_keys)
        alias = f"v{i}"
        keys = ", ".join(f"{q(k)} AS {q(f'__kiln_k{j}')}" for j, k in enumerate(view.join_keys))
        cols = ", ".join(
            f"CAST({q(f)} AS {DTYPES[view.feature(f).dtype]}) AS {q(f)}" for f in features
        )
        sub = (f"(SELECT {keys}, CAST({q(view.timestamp_field)} AS TIMESTAMPTZ) AS {q(VTS)}, "
               f"{cols} FROM {source_sql(view)})")
        on = " AND ".join(f"e.{q(k)} = {alias}.{q(f'__kiln_k{j}')}"
                          for j, k in enumerate(view.join_keys))
        joins.append(f"ASOF LEFT JOIN {sub} {alias} ON {on} AND e.{q(ETS)} >= {alias}.{q(VTS)}")
        for f in features:
            out = f"{view.name}__{f}" if full_feature_names else f
            if out in taken:
                raise InvalidArgumentError(
                    f"feature {view.name}:{f} would be column {out!r}, which the entity frame "
                    "or another feature already has; pass full_feature_names=True"
                )
            taken.add(out)
            expr = f"{alias}.{q(f)}"
            if view.ttl_ms is not None:
                expr = (f"CASE WHEN {alias}.{q(VTS)} >= e.{q(ETS)} - "
                        f"INTERVAL '{view.ttl_ms} milliseconds' THEN {expr} END")
            select.append(f"{expr} AS {q(out)}")
    # Only the join keys and the timestamp go through DuckDB; the caller's columns are
    # put back untouched (dtypes, index) beside the features.
    keep = [c for c in entity_df.columns if c in needed]
    table = pa.Table.from_pandas(entity_df[keep], preserve_index=False)
    table = table.append_column(ROW, pa.array(np.arange(len(entity_df), dtype=np.int64)))
    sql = (f"SELECT {', '.join(select)} FROM (SELECT *, CAST({q(timestamp_column)} AS "
           f"TIMESTAMPTZ) AS {q(ETS)} FROM __kiln_entity) e {' '.join(joins)} "
           f"ORDER BY e.{q(ROW)}")
    con = connect()
    try:
        con.register("__kiln_entity", table)
        try:
            result = _arrow_table(con.sql(sql))
        except duckdb.Error as exc:
            raise InvalidArgumentError(
                f"cannot join features {_describe(requests)} to the entity frame: "
                f"{_first_line(exc)}"
            ) from None
    finally:
        con.close()
    features_frame = result.to_pandas()
    features_frame.index = entity_df.index
    frame: pd.DataFrame = pd.concat([entity_df, features_frame], axis=1)
    return frame


def latest_values(
    view: FeatureView,
    *,
    start_ms: int | None,
    end_ms: int,
    batch_rows: int = 10_000,
) -> tuple[int, Iterator[pa.RecordBatch]]:
    """The latest row per entity with an event time in ``[start, end)``: the row count and
    a stream of record batches (join keys, ``__kiln_ts_ms``, features in view order).

    DuckDB aggregates the source in its own bounded memory (spilling to disk when
    needed); the caller holds one batch at a time.
    """
    import duckdb

    con = connect()
    con.execute("SET preserve_insertion_order = false")
    keys = ", ".join(q(k) for k in view.join_keys)
    packed = ", ".join(
        f"{q(f.name)} := CAST({q(f.name)} AS {DTYPES[f.dtype]})" for f in view.features
    )
    where = [f"{q(view.timestamp_field)} < {_ts_literal(end_ms)}"]
    if start_ms is not None:
        where.append(f"{q(view.timestamp_field)} >= {_ts_literal(start_ms)}")
    inner = (f"SELECT {keys}, CAST({q(view.timestamp_field)} AS TIMESTAMPTZ) AS {q(VTS)}, "
             f"struct_pack({packed}) AS __kiln_values FROM {source_sql(view)} "
             f"WHERE {' AND '.join(where)}")
    unpack = ", ".join(f"__kiln_values.{q(f.name)} AS {q(f.name)}" for f in view.features)
    try:
        con.execute(
            f"CREATE TEMP TABLE __kiln_latest AS SELECT {keys}, "
            f"epoch_ms(max({q(VTS)})) AS {q(TS_MS)}, "
            f"arg_max(__kiln_values, {q(VTS)}) AS __kiln_values "
            f"FROM ({inner}) GROUP BY {keys}"
        )
        total = int(con.execute("SELECT count(*) FROM __kiln_latest").fetchall()[0][0])
        reader = _arrow_reader(con.sql(
            f"SELECT {keys}, {q(TS_MS)}, {unpack} FROM __kiln_latest"
        ), batch_rows)
    except duckdb.Error as exc:
        con.close()
        raise InvalidArgumentError(
            f"cannot read source of feature view {view.name!r}: {_first_line(exc)}"
        ) from None

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        finally:
            con.close()

    return total, batches()


def _arrow_table(result: Any) -> pa.Table:
    # DuckDB 2 names it to_arrow_table; 1.x fetch_arrow_table.
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    return fetch()


def _arrow_reader(result: Any, batch_rows: int) -> pa.RecordBatchReader:
    fetch = getattr(result, "to_arrow_reader", None) or result.fetch_arrow_reader
    return fetch(batch_rows)


def _ts_literal(ms: int) -> str:
    iso = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat()
    return f"TIMESTAMPTZ '{iso}'"


def _literal(text: str) -> str:
    return text.replace("'", "''")


def _describe(requests: Sequence[tuple[FeatureView, Sequence[str]]]) -> str:
    return ", ".join(f"{v.name}:{f}" for v, fs in requests for f in fs)


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def as_utc_ms(value: Any) -> int:
    """Milliseconds since the epoch of a datetime, pandas Timestamp or ISO string
    (naive values are UTC)."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"time {value!r} is not accepted; use an ISO date/time such as 2026-11-20T00:00Z"
        ) from None
    if pd.isna(ts):
        raise InvalidArgumentError(f"time {value!r} is not a date/time")
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value // 1_000_000)
