"""A window of the prediction log as a table: one row per predicted row, its features,
its prediction and (once feedback arrived) its label.

The log keeps each request's body as received (``/predict`` records or columns,
MLflow's formats, v2 tensors); this module turns those back into rows.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.exceptions import InvalidArgumentError, KilnError
from kiln.serving.inputs import is_label

if TYPE_CHECKING:
    import pandas as pd

    from kiln.workspace import Workspace

META = ("request_id", "timestamp", "route", "model", "model_version", "shadow")
LABEL = "__label__"
PREDICTION = "__prediction__"
SCORE = "__score__"


@dataclass
class Window:
    """The rows of deployment ``deployment`` logged in ``[start, end]``.

    ``frame`` has the columns of :data:`META`, the features, ``__prediction__``,
    ``__score__`` (the positive-class probability when the model returned one) and
    ``__label__`` (NaN/None until feedback arrives). ``errors`` counts requests that
    failed; ``unmatched_feedback`` counts labels whose request id is not in the window.
    """

    deployment: str
    start: int
    end: int
    frame: pd.DataFrame
    features: list[str]
    requests: int = 0
    errors: int = 0
    invalid_labels: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No prediction in the window: nothing to measure (never "no drift")."""
        return len(self.frame) == 0

    @property
    def primary(self) -> pd.DataFrame:
        """The rows answered to clients (shadow copies left out)."""
        return self.frame[~self.frame["shadow"].astype(bool)]

    @property
    def labelled(self) -> pd.DataFrame:
        primary = self.primary
        return primary[primary[LABEL].notna()]


def read_window(ws: Workspace, deployment: str, start: int, end: int) -> Window:
    """The window ``[start, end]`` (ms) of ``deployment``'s prediction log, joined with the
    feedback stored for its requests. An unknown deployment raises ``NotFoundError``."""
    import pandas as pd

    ws.get_deployment(deployment)
    log = ws.read_prediction_log(deployment, start, end)
    requests = int((~log["shadow"]).sum()) if len(log) else 0
    ok = log[log["status"] == 200] if len(log) else log
    errors = requests - int((~ok["shadow"]).sum()) if len(ok) else requests
    names_cache: dict[tuple[str, int], list[str]] = {}
    records: list[dict[str, Any]] = []
    preds: list[Any] = []
    meta: dict[str, list[Any]] = {k: [] for k in META}
    columns = {k: ok[k].tolist() for k in ("inputs", "outputs", *META)} if len(ok) else {}
    for i in range(len(ok)):
        model, version = columns["model"][i], int(columns["model_version"][i])
        rows = _records(json.loads(str(columns["inputs"][i])), lambda m=model, v=version:
                        _signature_names(ws, m, v, names_cache))
        raw = columns["outputs"][i]
        outputs = json.loads(str(raw)) if raw else []
        if not isinstance(outputs, list):
            outputs = [outputs]
        if len(outputs) != len(rows):  # a model answering one value for many rows
            continue
        records.extend(rows)
        preds.extend(outputs)
        for k in META:
            meta[k].extend([columns[k][i]] * len(rows))
    body = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    features = [str(c) for c in body.columns]
    frame = pd.DataFrame(meta)
    for col in features:
        frame[col] = body[col].to_numpy()
    frame[SCORE] = [_score(p) for p in preds]
    frame[PREDICTION] = [_label_of(p) for p in preds]
    window = Window(deployment, start, end, frame, features, requests, errors)
    _join_feedback(ws, window)
    return window


def _label_of(pred: Any) -> Any:
    # A probability vector stands for its most likely class (its index).
    if isinstance(pred, list) and pred and all(isinstance(v, int | float) for v in pred):
        return max(range(len(pred)), key=pred.__getitem__)
    return pred


def _score(pred: Any) -> float:
    if isinstance(pred, list) and len(pred) == 2 and all(isinstance(v, int | float)
                                                         for v in pred):
        return float(pred[1])
    return math.nan


def _signature_names(ws: Workspace, model: str, version: int,
                     cache: dict[tuple[str, int], list[str]]) -> list[str]:
    key = (model, version)
    if key not in cache:
        try:
            sig = ws.get_model_version(model, version).signature
        except KilnError:
            sig = None
        cache[key] = [str(c["name"]) for c in (sig.inputs if sig else []) if "name" in c]
    return cache[key]


def _records(body: Any, names: Any) -> list[dict[str, Any]]:
    """A logged request body as row records (any of the formats the server accepts);
    ``names()`` gives the signature's column order for bodies without names."""
    from kiln.serving.inputs import PayloadError, from_mlflow, from_predict, from_v2

    if isinstance(body, dict) and isinstance(body.get("records"), list):  # the common case
        return [r for r in body["records"] if isinstance(r, dict)]
    try:
        if isinstance(body, dict) and "columns" in body:
            payload = from_predict(body)
        elif isinstance(body, dict) and "rows" in body:  # logged without its raw body
            rows, cols = body["rows"] or [], body.get("names")
            return [dict(zip(cols or names(), r, strict=False)) for r in rows]
        elif isinstance(body, dict) and isinstance(body.get("inputs"), list) and body[
                "inputs"] and isinstance(body["inputs"][0], dict) and "datatype" in body[
                "inputs"][0]:
            payload = from_v2(body)
        else:
            payload = from_mlflow(body)
    except PayloadError:
        return []
    if payload.records is not None:
        return [r for r in payload.records if isinstance(r, dict)]
    if payload.columns is not None:
        cols = {k: v if isinstance(v, list) else [v] for k, v in payload.columns.items()}
        n = max((len(v) for v in cols.values()), default=0)
        return [{k: v[i] for k, v in cols.items() if i < len(v)} for i in range(n)]
    keys = payload.names or names()
    return [dict(zip(keys, r if isinstance(r, list) else [r], strict=False))
            for r in payload.rows or []]


def _join_feedback(ws: Workspace, window: Window) -> None:
    frame = window.frame
    labels: list[Any] = [None] * len(frame)
    if len(frame):
        wanted = set(frame["request_id"])
        by_request: dict[str, Any] = {
            f.request_id: f.label for f in ws.store.get_feedback(window.deployment, window.start)
            if f.request_id in wanted
        }
        positions: dict[str, list[int]] = {}
        for i, rid in enumerate(frame["request_id"]):
            positions.setdefault(rid, []).append(i)
        for rid, label in by_request.items():
            at = positions[rid]
            values = label if isinstance(label, list) and len(at) > 1 else [label]
            if len(values) != len(at) or not all(is_label(v) for v in values):
                window.invalid_labels.append(rid)
                continue
            for i, v in zip(at, values, strict=True):
                labels[i] = v
    frame[LABEL] = labels


def check_labels(ws: Workspace, deployment: str, labels: dict[str, Any]) -> None:
    """Refuse feedback before it is stored: every request id must be in ``deployment``'s
    prediction log, and every label a number, string or boolean (a list for a request of
    several rows). One line naming the first bad id or label."""
    log = ws.read_prediction_log(deployment)
    known = set(log["request_id"]) if len(log) else set()
    counts = log[~log["shadow"]].groupby("request_id").size().to_dict() if len(log) else {}
    outputs = dict(zip(log["request_id"], log["outputs"], strict=False)) if len(log) else {}
    for rid, label in labels.items():
        if rid not in known:
            raise InvalidArgumentError(
                f"feedback for request id {rid!r}: no such request in the prediction log of "
                f"deployment {deployment!r} (the id is in the x-request-id response header)")
        values = label if isinstance(label, list) else [label]
        if not all(is_label(v) for v in values):
            raise InvalidArgumentError(
                f"feedback label {label!r} for request {rid!r} is a {type(label).__name__}; "
                "accepted: a number, string or boolean (a list of them for a request of "
                "several rows)")
        if isinstance(label, list) and counts.get(rid, 1) != len(label):
            raise InvalidArgumentError(
                f"feedback for request {rid!r} has {len(label)} labels for "
                f"{counts.get(rid, 1)} predicted rows")
        predicted = _first(outputs.get(rid))
        if isinstance(predicted, int | float) and not isinstance(predicted, bool) and \
                isinstance(values[0], str):
            raise InvalidArgumentError(
                f"feedback label {values[0]!r} for request {rid!r} is text, but the model "
                f"predicts numbers (e.g. {predicted!r}); send a number")


def _first(outputs: Any) -> Any:
    if not isinstance(outputs, str):
        return None
    try:
        value = json.loads(outputs)
    except ValueError:
        return None
    while isinstance(value, list) and value:
        value = value[0]
    return value
