"""Batch inference: a Parquet file scored chunk by chunk (bounded memory), with lineage."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import LineageEdge
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.serving.loading import load_model_for_serving, predict_array, takes_array

if TYPE_CHECKING:
    from kiln.registry.model import LoadedModel
    from kiln.serving.client import ServingClient


@dataclass(frozen=True)
class BatchResult:
    """What ``batch_predict`` wrote: rows, the model version used, the file hashes."""

    model: str
    version: int
    rows: int
    output: Path
    seconds: float
    input_sha256: str
    output_sha256: str


def _uri(model_uri: str) -> str:
    if model_uri.startswith(("models:/", "runs:/")):
        return model_uri
    return f"models:/{model_uri}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def batch_predict(
    ws: ServingClient,
    model_uri: str,
    input_path: Path,
    output_path: Path,
    *,
    chunk_size: int = 250_000,
    progress: bool = False,
    prediction_column: str = "prediction",
    keep_columns: bool = True,
) -> BatchResult:
    """Score ``input_path`` with the model into ``output_path`` (written to a temporary
    name and renamed at the end: never a half-written output).

    Three stages overlap: a thread decodes the next Parquet record batch while the model
    predicts on this one and another thread encodes the last one (pyarrow releases the GIL
    while it decodes and encodes). At most two chunks wait between stages: memory stays
    bounded by a few chunks whatever the file's size."""
    import pyarrow.parquet as pq

    if chunk_size < 1:
        raise InvalidArgumentError(f"chunk size {chunk_size} is not accepted; use 1 or more")
    if not input_path.is_file():
        raise NotFoundError(f"input file {str(input_path)!r} does not exist")
    from kiln.registry.client import RegistryClient

    assert isinstance(ws, RegistryClient)
    mv = ws.get_model_version_by_uri(_uri(model_uri))
    model = load_model_for_serving(ws, f"models:/{mv.name}/{mv.version}")
    try:
        source = pq.ParquetFile(input_path)
    except Exception as exc:
        raise InvalidArgumentError(f"input {str(input_path)!r} is not a Parquet file: {exc}"
                                   ) from None
    total = source.metadata.num_rows
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(output_path.name + ".partial")
    numeric = _numeric_columns(model.signature, source.schema_arrow)
    scorer = _Scorer(model, numeric, prediction_column, keep_columns)
    start = time.perf_counter()
    bar, task = _progress(progress, total, output_path.name)
    try:
        rows = _pipeline(source.iter_batches(batch_size=chunk_size), scorer, partial,
                         lambda n: bar.advance(task, n) if bar is not None else None)
        os.replace(partial, output_path)
    finally:
        partial.unlink(missing_ok=True)
        if bar is not None:
            bar.stop()
    seconds = time.perf_counter() - start
    in_sha, out_sha = _sha256(input_path), _sha256(output_path)
    ts = now_ms()
    version_id = f"{mv.name}/{mv.version}"
    ws.store.add_edges([
        LineageEdge("model_version", version_id, "file", out_sha, "scored", ts),
        LineageEdge("file", in_sha, "file", out_sha, "input", ts),
    ])
    return BatchResult(mv.name, mv.version, rows, output_path, seconds, in_sha, out_sha)


class _Scorer:
    """One record batch in, the table to write out (the batch plus its predictions)."""

    def __init__(self, model: LoadedModel, numeric: list[str] | None, column: str,
                 keep: bool) -> None:
        self.model, self.numeric, self.column, self.keep = model, numeric, column, keep
        # a float matrix straight from Arrow when the model answers the same for it
        self.array = numeric is not None and takes_array(model, numeric)

    def __call__(self, batch: Any) -> Any:
        import numpy as np
        import pyarrow as pa

        from kiln.registry.signature import enforce

        if self.numeric is not None:
            matrix = np.empty((batch.num_rows, len(self.numeric)), dtype=np.float64, order="F")
            for j, name in enumerate(self.numeric):
                col = batch.column(name)
                if col.null_count:
                    raise InvalidArgumentError(
                        f"column {name!r} has {col.null_count} missing values in the rows "
                        "being scored; fill or drop them first")
                matrix[:, j] = col.to_numpy(zero_copy_only=False)
            if self.array:
                data: Any = matrix
            else:
                import pandas as pd

                data = pd.DataFrame(matrix, columns=self.numeric, copy=False)
        else:
            data = enforce(self.model.signature, batch.to_pandas())
        preds = predict_array(self.model, data)
        table = pa.Table.from_batches([batch]) if self.keep else pa.table({})
        return table.append_column(self.column, pa.array(preds))


_DONE = object()


def _pipeline(batches: Iterator[Any], score: _Scorer, path: Path,
              advance: Callable[[int], None]) -> int:
    """Read in one thread, score here, write in another; the first error stops all three."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    read_q: queue.Queue[Any] = queue.Queue(maxsize=2)
    write_q: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()
    errors: list[BaseException] = []

    def put(q: queue.Queue[Any], item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not put(read_q, batch):
                    return
        except BaseException as exc:
            errors.append(exc)
            stop.set()
        put(read_q, _DONE)

    def write() -> None:
        writer: Any = None
        try:
            while not stop.is_set():
                try:
                    table = write_q.get(timeout=0.1)
                except queue.Empty:
                    continue
                if table is _DONE:
                    break
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
                advance(table.num_rows)
            if writer is None and not stop.is_set():  # an empty input: an empty output
                writer = pq.ParquetWriter(path, pa.schema([(score.column, pa.float64())]))
        except BaseException as exc:
            errors.append(exc)
            stop.set()
        finally:
            if writer is not None:
                writer.close()

    reader = threading.Thread(target=read, name="kiln-predict-read", daemon=True)
    writer = threading.Thread(target=write, name="kiln-predict-write", daemon=True)
    reader.start()
    writer.start()
    rows = 0
    try:
        while not stop.is_set():
            try:
                batch = read_q.get(timeout=0.1)
            except queue.Empty:
                continue
            if batch is _DONE:
                break
            table = score(batch)
            rows += batch.num_rows
            if not put(write_q, table):
                break
    except BaseException as exc:
        errors.append(exc)
        stop.set()
    finally:
        put(write_q, _DONE)  # returns at once when stopped: the writer sees stop itself
        reader.join()
        writer.join()
    if errors:
        raise errors[0]
    return rows


def _numeric_columns(signature: Any, schema: Any) -> list[str] | None:
    """The signature's columns when they are all numeric in the signature and in the file
    (no nulls check needed beyond what the model does), else None."""
    import pyarrow.types as pat

    from kiln.registry.signature import NUMERIC

    if signature is None or not signature.input_columns:
        return None
    cols = signature.input_columns
    if any(c.get("type") not in NUMERIC for c in signature.inputs if "name" in c):
        return None
    names = set(schema.names)
    if any(c not in names for c in cols):
        return None  # enforce() names the missing column
    if not all(pat.is_floating(schema.field(c).type) or pat.is_integer(schema.field(c).type)
               for c in cols):
        return None
    return list(cols)


def _progress(enabled: bool, total: int, name: str) -> tuple[Any, Any]:
    if not enabled:
        return None, None
    from rich.progress import Progress

    bar = Progress(transient=True)
    bar.start()
    return bar, bar.add_task(f"scoring -> {name}", total=total)
