"""Batch inference: a Parquet file scored chunk by chunk (bounded memory), with lineage."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import LineageEdge
from kiln.exceptions import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
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
    chunk_size: int = 100_000,
    progress: bool = False,
    prediction_column: str = "prediction",
    keep_columns: bool = True,
) -> BatchResult:
    """Score ``input_path`` with the model into ``output_path`` (written to a temporary
    name and renamed at the end: never a half-written output)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kiln.registry.signature import enforce

    if chunk_size < 1:
        raise InvalidArgumentError(f"chunk size {chunk_size} is not accepted; use 1 or more")
    if not input_path.is_file():
        raise NotFoundError(f"input file {str(input_path)!r} does not exist")
    from kiln.registry.client import RegistryClient

    assert isinstance(ws, RegistryClient)
    mv = ws.get_model_version_by_uri(_uri(model_uri))
    from kiln.registry.inference import load_for_inference

    model = load_for_inference(ws, mv.name, mv.version)  # ONNX path when checked
    try:
        source = pq.ParquetFile(input_path)
    except Exception as exc:
        raise InvalidArgumentError(f"input {str(input_path)!r} is not a Parquet file: {exc}"
                                   ) from None
    total = source.metadata.num_rows
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(output_path.name + ".partial")
    start = time.perf_counter()
    writer: Any = None
    rows = 0
    bar, task = _progress(progress, total, output_path.name)
    try:
        numeric = _numeric_columns(model.signature, source.schema_arrow)
        for batch in source.iter_batches(batch_size=chunk_size):
            if numeric is not None:  # skip the pandas round trip: arrow -> one float matrix
                import pandas as pd

                matrix = np.column_stack([
                    batch.column(name).to_numpy(zero_copy_only=False).astype(np.float64,
                                                                               copy=False)
                    for name in numeric])
                data: Any = pd.DataFrame(matrix, columns=numeric, copy=False)
            else:
                data = enforce(model.signature, batch.to_pandas())
            preds = np.asarray(model.raw.predict(data))
            table = pa.Table.from_batches([batch]) if keep_columns else pa.table({})
            table = table.append_column(prediction_column, pa.array(preds))
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema)
            writer.write_table(table)
            rows += batch.num_rows
            if bar is not None:
                bar.advance(task, batch.num_rows)
        if writer is None:  # an empty input still gives a (empty) output file
            writer = pq.ParquetWriter(partial, pa.schema([(prediction_column, pa.float64())]))
        writer.close()
        writer = None
        os.replace(partial, output_path)
    finally:
        if writer is not None:
            writer.close()
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
