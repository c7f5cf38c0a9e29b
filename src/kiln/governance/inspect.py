"""Reading a version's bundle for governance: its input example and predict latency."""

from __future__ import annotations

import json
import time
from io import StringIO
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from kiln.entities import ModelVersion
    from kiln.registry.model import LoadedModel
    from kiln.workspace import Workspace


def input_example(ws: Workspace, mv: ModelVersion) -> pd.DataFrame | None:
    """The input example logged with the version, or ``None`` when there is none."""
    import pandas as pd

    from kiln.artifacts.tree import read_manifest
    from kiln.registry.model import EXAMPLE_FILE

    entry = read_manifest(ws.artifacts, mv.artifact).get(EXAMPLE_FILE)
    if entry is None:
        return None
    text = ws.artifacts.get_bytes(entry["sha256"]).decode()
    data = json.loads(text)
    if "columns" in data:
        return pd.read_json(StringIO(text), orient="split")
    return pd.DataFrame(data["data"])


def predict_p99_ms(model: LoadedModel, example: Any, runs: int = 100) -> float:
    """The 99th percentile of ``predict(example)`` wall time in milliseconds (after a warm-up)."""
    import numpy as np

    model.predict(example)
    times = []
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        model.predict(example)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 99))


