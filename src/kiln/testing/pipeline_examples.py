"""Small pipelines used by :class:`kiln.testing.ExecutorSuite` (importable by any worker)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

import kiln
from kiln.pipelines.dsl import pipeline, step


@step
def make(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64)


@step
def halves(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = len(x) // 2
    return np.array(x[:k]), np.array(x[k:])


@step
def total(x: np.ndarray, scale: float = 1.0) -> float:
    value = float(np.sum(x) * scale)
    print(f"total of {len(x)} values x {scale} = {value}")
    kiln.log_metric("total", value)
    return value


@step
def combine(values: list[float]) -> dict[str, float]:
    return {"sum": float(sum(values)), "n": float(len(values))}


@step
def array_kind(x: np.ndarray) -> str:
    """The type a step receives for an array input (``memmap`` when not copied)."""
    return type(x).__name__


@step
def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"i": range(n), "sq": [i * i for i in range(n)]})


@step
def frame_sum(df: pd.DataFrame) -> int:
    return int(df["sq"].sum())


@pipeline
def conformance(n: int = 100, scale: float = 2.0) -> None:
    """Multiple outputs, fan-out (a sweep), fan-in, arrays and frames."""
    x = make(n)
    a, b = halves(x)
    swept = total.map(a, scale=[1.0, scale])
    combine([*swept, total(b)])
    array_kind(x)
    frame_sum(frame(n))


@step
def gate(marker: str) -> int:
    if not os.path.exists(marker):
        raise RuntimeError(f"marker file {marker} is missing")
    return 1


@step
def after_gate(v: int) -> int:
    return v + 1


@step
def independent(n: int) -> int:
    return n * 2


@pipeline
def branches(marker: str = "/nonexistent/marker", n: int = 3) -> None:
    """One branch fails while its marker file is missing; the other is independent."""
    after_gate(gate(marker))
    independent(n)


@step(retries=2, backoff=0.01)
def flaky(counter: str) -> int:
    path = Path(counter)
    count = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(count))
    if count < 3:
        raise RuntimeError(f"attempt {count} fails on purpose")
    return count


@pipeline
def retrying(counter: str = "/tmp/kiln-counter") -> None:
    flaky(counter)


@step(timeout=0.5)
def slow(seconds: float, pid_file: str = "") -> float:
    if pid_file:
        Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
    return seconds


@pipeline
def timing_out(seconds: float = 3.0, pid_file: str = "") -> None:
    slow(seconds, pid_file)
