"""The prediction log: requests buffered off the request path, written as Parquet batches to
the artifact store and indexed in the metadata store; read back as one DataFrame."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, NamedTuple

from kiln._time import now_ms
from kiln.entities import PredictionLogBatch

if TYPE_CHECKING:
    import pandas as pd

    from kiln.artifacts.base import ArtifactStore
    from kiln.metadata.base import MetadataStore

log = logging.getLogger("kiln.serving")

_SLICE = 1000  # log rows converted to Arrow at a time
COLUMNS = ("request_id", "timestamp", "deployment", "deployment_version", "route", "model",
           "model_version", "shadow", "status", "latency_ms", "inputs", "outputs")


class LogRecord(NamedTuple):
    """One logged request on one route. ``inputs``/``outputs`` are JSON-able objects,
    serialized by the writer thread, not on the request path."""

    request_id: str
    timestamp: int
    deployment: str
    deployment_version: int
    route: str
    model: str
    model_version: int
    shadow: bool
    status: int
    latency_ms: float
    inputs: Any
    outputs: Any


class PredictionLogger:
    """A bounded buffer drained by one writer thread into Parquet batches.

    ``log()`` never blocks: when the buffer holds ``max_rows`` records the new record
    is dropped and counted in ``dropped``. ``close()`` writes everything still buffered.
    """

    def __init__(
        self,
        store: MetadataStore,
        artifacts: ArtifactStore,
        deployment: str,
        *,
        max_rows: int = 200_000,
        batch_rows: int = 20_000,
        flush_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.deployment = deployment
        self.max_rows = max_rows
        self.batch_rows = batch_rows
        self.flush_seconds = flush_seconds
        self.dropped = 0
        self.written = 0
        self.failures = 0
        self._buf: deque[LogRecord] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kiln-predlog", daemon=True)
        self._thread.start()

    def log(self, record: LogRecord) -> bool:
        if len(self._buf) >= self.max_rows:
            self.dropped += 1
            return False
        self._buf.append(record)
        if len(self._buf) >= self.batch_rows:
            self._wake.set()
        return True

    @property
    def pending(self) -> int:
        return len(self._buf)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Write what is buffered now; returns the number of rows written."""
        with self._lock:
            total = 0
            while self._buf:
                n = min(len(self._buf), self.batch_rows)
                records = [self._buf.popleft() for _ in range(n)]
                try:
                    self._write(records)
                except Exception as exc:  # the store may be briefly unreachable: retry later
                    self.failures += 1
                    log.warning("prediction log write failed (%s); will retry", exc)
                    room = self.max_rows - len(self._buf)
                    self._buf.extendleft(reversed(records[:max(room, 0)]))
                    self.dropped += max(len(records) - room, 0)
                    break
                total += n
            self.written += total
            return total

    def _write(self, records: list[LogRecord]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # converted in slices with a pause between: pyarrow holds the GIL while it reads
        # Python objects, and the server's event loop needs it back within milliseconds
        schema = _schema()
        batches = []
        for i in range(0, len(records), _SLICE):
            cols = list(zip(*records[i:i + _SLICE], strict=True))
            data: dict[str, Any] = {name: list(col) for name, col in
                                    zip(COLUMNS, cols, strict=True)}
            data["inputs"] = [_json_text(v) for v in data["inputs"]]
            data["outputs"] = [_json_text(v) for v in data["outputs"]]
            batches.append(pa.RecordBatch.from_pydict(data, schema=schema))
            time.sleep(0)
        table = pa.Table.from_batches(batches, schema=schema)
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        stored = self.artifacts.put_bytes(sink.getvalue())
        times = [r.timestamp for r in records]
        self.store.add_prediction_log(PredictionLogBatch(
            self.deployment, stored.sha256, len(records), min(times), max(times), now_ms()))

    def close(self) -> None:
        """Stop the writer thread and write everything still buffered."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        self.flush()


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("request_id", pa.string()), ("timestamp", pa.int64()), ("deployment", pa.string()),
        ("deployment_version", pa.int32()), ("route", pa.string()), ("model", pa.string()),
        ("model_version", pa.int32()), ("shadow", pa.bool_()), ("status", pa.int16()),
        ("latency_ms", pa.float64()), ("inputs", pa.string()), ("outputs", pa.string()),
    ])


def _json_text(value: Any) -> str:
    if isinstance(value, bytes):  # the request body, JSON already
        return value.decode("utf-8", errors="replace")
    try:
        import orjson

        return orjson.dumps(value, default=_jsonable,
                            option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except (ImportError, TypeError):
        return json.dumps(value, default=_jsonable)


def _jsonable(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    return str(value)


def logged_ids(store: MetadataStore, artifacts: ArtifactStore, deployment: str,
               request_ids: set[str]) -> set[str]:
    """Which of ``request_ids`` the prediction log of ``deployment`` holds. Reads only the
    ``request_id`` column, newest batch first, and stops once every id is found: an id
    another worker answered a moment ago costs one small read, not the whole log."""
    import pyarrow.parquet as pq

    found: set[str] = set()
    batches = store.list_prediction_logs(deployment, None, None)
    for batch in sorted(batches, key=lambda b: b.end_time, reverse=True):
        column = pq.read_table(io.BytesIO(artifacts.get_bytes(batch.artifact)),
                               columns=["request_id"]).column(0).to_pylist()
        found.update(request_ids.intersection(column))
        if len(found) == len(request_ids):
            break
    return found


def read_log(
    store: MetadataStore,
    artifacts: ArtifactStore,
    deployment: str,
    start: int | None,
    end: int | None,
) -> pd.DataFrame:
    """Every logged row of ``deployment`` with ``start <= timestamp <= end``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tables = [
        pq.read_table(io.BytesIO(artifacts.get_bytes(b.artifact)))
        for b in store.list_prediction_logs(deployment, start, end)
    ]
    table = pa.concat_tables(tables) if tables else _schema().empty_table()
    if start is not None:
        table = table.filter(pc.greater_equal(table["timestamp"], start))
    if end is not None:
        table = table.filter(pc.less_equal(table["timestamp"], end))
    frame: pd.DataFrame = table.to_pandas()
    return frame.sort_values(["timestamp", "request_id"], kind="stable").reset_index(drop=True)
