"""Materialization: push the latest value per entity of a view into the online store.

DuckDB aggregates the source (latest row per entity in the window) in bounded
memory and hands it over as Arrow record batches; each batch is encoded and
written, so memory stays flat however many rows the source holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiln.entities import Materialization
from kiln.exceptions import InvalidArgumentError
from kiln.features.online.codec import encode_batch, encode_keys

if TYPE_CHECKING:
    from kiln.features.online.base import OnlineStore
    from kiln.features.registry import RegisteredView
    from kiln.metadata.base import MetadataStore

Progress = Callable[[str, int, int], None]  # (view, rows done, rows total)


@dataclass(frozen=True)
class MaterializeResult:
    """What one view's materialization wrote: the window ``[start, end)`` in ms and rows."""

    view: str
    version: int
    start: int | None
    end: int
    rows: int
    seconds: float


def materialize_view(
    meta: MetadataStore,
    online: OnlineStore,
    target: str,
    rv: RegisteredView,
    *,
    start_ms: int | None,
    end_ms: int,
    incremental: bool,
    now_ms: int,
    on_progress: Progress | None = None,
    batch_rows: int = 10_000,
) -> MaterializeResult:
    """Write the latest values of ``rv`` with event times in the window into ``online``.

    Incremental runs start where the last run of the same view version ended (from
    the beginning after a definition change) and remember where they stopped.
    """
    from kiln.features.offline import latest_values

    view = rv.view
    state = meta.get_materialization(view.name, target)
    if incremental:
        start_ms = state.until if state is not None and state.view_version == rv.version \
            else None
    if start_ms is not None and start_ms >= end_ms:
        raise InvalidArgumentError(
            f"materialization window of {view.name!r} is empty: start {start_ms} ms is not "
            f"before end {end_ms} ms"
        )
    began = time.perf_counter()
    total, batches = latest_values(view, start_ms=start_ms, end_ms=end_ms,
                                   batch_rows=batch_rows)
    done = 0
    if on_progress is not None:
        on_progress(view.name, 0, total)
    nkeys = len(view.join_keys)
    dtypes = [f.dtype for f in view.features]
    for batch in batches:
        cols = batch.columns
        keys = encode_keys([c.to_pylist() for c in cols[:nkeys]])
        stamps = cols[nkeys].to_pylist()
        values = encode_batch(rv.version, dtypes, cols[nkeys + 1:])
        rows = list(zip(keys, stamps, values, strict=True))
        online.write_batch(view.name, rows)
        done += len(rows)
        if on_progress is not None:
            on_progress(view.name, done, total)
    covered = state is not None and state.view_version == rv.version
    contiguous = start_ms is None or (covered and state is not None and start_ms <= state.until)
    if contiguous:
        until = max(end_ms, state.until) if covered and state is not None else end_ms
        meta.set_materialization(Materialization(view.name, target, rv.version, until, done,
                                                 now_ms))
    return MaterializeResult(view.name, rv.version, start_ms, end_ms, done,
                             time.perf_counter() - began)
