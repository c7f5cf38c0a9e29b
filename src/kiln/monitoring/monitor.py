"""Monitors: create one on a deployment, run it over a window of the prediction log.

>>> # ws.create_monitor("churn-drift", deployment="churn", every="1h", window="24h")
>>> # result = ws.run_monitor("churn-drift")     # one stored window of statistics

A run reads the window, compares its features and predictions with the stored
reference profile of the model version that served most of it (data and prediction
drift), checks data quality against that version's schema, computes performance on
the rows whose labels arrived through ``/feedback``, compares the deployment's routes
(A/B), stores the statistics as the monitor's next window, and evaluates the alert
rules. A window without traffic is stored as ``empty``: never as "no drift".
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import TYPE_CHECKING, Any

from kiln._time import now_ms
from kiln.entities import LineageEdge, Monitor, MonitorResult
from kiln.exceptions import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from kiln.entities import Alert
    from kiln.monitoring.reference import Reference
    from kiln.monitoring.window import Window
    from kiln.workspace import Workspace

_UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
MAX_CLASSES = 20


def parse_duration(text: str | int, what: str = "duration") -> int:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"7d"``, ``"2w"`` (or ms as an int) -> ms."""
    if isinstance(text, int) and not isinstance(text, bool) and text > 0:
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", str(text))
    if m is None or float(m.group(1)) <= 0:
        raise InvalidArgumentError(f"{what} {text!r} is not accepted; use a number and a unit "
                                   "s, m, h, d or w, e.g. 15m, 1h, 24h, 7d")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def cron_for(every_ms: int) -> str:
    """The cron schedule (UTC) that fires every ``every_ms``: it must divide a minute, an
    hour, a day or be a week, so windows line up with the clock."""
    s, minute, hour, day = every_ms // 1000, 60_000, 3_600_000, 86_400_000
    if every_ms % 1000 == 0 and s < 60 and 60 % s == 0:
        return f"* * * * * */{s}"
    if every_ms % minute == 0 and every_ms < hour and 60 % (every_ms // minute) == 0:
        return f"*/{every_ms // minute} * * * *"
    if every_ms % hour == 0 and every_ms < day and 24 % (every_ms // hour) == 0:
        return f"0 */{every_ms // hour} * * *"
    if every_ms == day:
        return "0 0 * * *"
    if every_ms == 7 * day:
        return "0 0 * * 0"
    raise InvalidArgumentError(
        f"every {every_ms} ms does not line up with the clock; accepted: a divisor of a "
        "minute (10s, 30s), of an hour (5m, 15m, 30m), of a day (1h, 6h, 12h), 1d or 7d")


def create_monitor(ws: Workspace, name: str, deployment: str, *, every: str | int = "1h",
                   window: str | int = "24h", schedule: bool = True,
                   **config: Any) -> Monitor:
    """Create monitor ``name`` on ``deployment`` (which must exist). ``config``: ``features``
    (default: the model's inputs), ``alpha`` and ``min_effect`` for the A/B test,
    ``promote`` (promote a significantly better challenger through the gates).
    With ``schedule``, ``kiln scheduler`` runs it every ``every``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgumentError(f"monitor name {name!r} is not accepted; use letters, "
                                   "digits, '-', '_' or '.' (up to 128)")
    every_ms = parse_duration(every, "every")
    window_ms = parse_duration(window, "window")
    cron = cron_for(every_ms) if schedule else None
    ws.get_deployment(deployment)  # unknown deployment: one line naming the known ones
    monitor = ws.store.create_monitor(Monitor(name, deployment, every_ms, window_ms,
                                              dict(config), ws.user, now_ms()))
    if cron is not None:
        from kiln.monitoring.scheduled import register_schedule

        register_schedule(ws, monitor, cron)
    return monitor


def run_monitor(ws: Workspace, name: str, *, now: int | None = None, start: int | None = None,
                end: int | None = None) -> MonitorResult:
    """Look at one window (default: the last ``window`` before now), store its statistics
    as the monitor's next result, evaluate the alert rules; return the result."""
    monitor = ws.store.get_monitor(name)
    end = (now_ms() if now is None else now) if end is None else end
    start = end - monitor.window_ms if start is None else start
    from kiln.monitoring.window import read_window

    window = read_window(ws, monitor.deployment, start, end)
    if window.empty:
        failed = f" ({window.errors} requests, all failed)" if window.requests else ""
        data: dict[str, Any] = {
            "empty": True, "requests": window.requests, "errors": window.errors,
            "message": f"no predictions logged for deployment {monitor.deployment!r} in this "
                       f"window{failed}: nothing to measure (not 'no drift')"}
        status = "empty"
    else:
        data = window_statistics(ws, monitor, window)
        status = "ok"
    result = ws.store.add_monitor_result(name, window_start=start, window_end=end,
                                         status=status, rows=len(window.frame), data=data,
                                         created_at=now_ms())
    dep = ws.get_deployment(monitor.deployment)
    ws.store.add_edges([LineageEdge("deployment_version", f"{dep.name}/{dep.version}",
                                    "monitor_result", f"{name}/{result.seq}", "observed",
                                    result.created_at)])
    from kiln.monitoring.alerts import evaluate_rules

    evaluate_rules(ws, result)
    if monitor.config.get("promote") and status == "ok":
        from kiln.monitoring.loop import promote_if_better

        promote_if_better(ws, name, result)
    return result


def window_statistics(ws: Workspace, monitor: Monitor, window: Window) -> dict[str, Any]:
    """Every statistic of a non-empty window, as JSON-able data."""
    from kiln.monitoring.reference import load_reference
    from kiln.monitoring.window import LABEL

    primary = window.primary
    routes = _routes(primary)
    main = max(routes.items(), key=lambda kv: kv[1]["rows"])[1] if routes else None
    data: dict[str, Any] = {
        "rows": len(primary), "requests": window.requests, "errors": window.errors,
        "error_rate": window.errors / window.requests if window.requests else 0.0,
        "labelled": int(primary[LABEL].notna().sum()),
        "invalid_labels": len(window.invalid_labels), "routes": routes,
    }
    if main is None:
        return data
    try:
        ref: Reference | None = load_reference(ws, main["model"], main["model_version"])
    except (NotFoundError, InvalidArgumentError) as exc:
        # no training data to compare with: still report performance and A/B
        ref = None
        data["reference_error"] = str(exc)
    if ref is not None:
        data["reference"] = {"model": ref.model, "version": ref.version,
                             "dataset": ref.dataset, "rows": ref.rows}
        columns = list(monitor.config.get("features") or ref.columns)
        data["drift"] = _drift(ws, ref, primary, columns)
        data["prediction_drift"] = _prediction_drift(ref, primary, main["route"])
        data["quality"] = _quality(ref, primary, columns)
    primary = _with_scores(ws, primary, window.features)
    perf = _performance(primary)
    if perf is not None:
        data["performance"] = perf
        data["performance_by_route"] = {
            route: p for route, p in ((r, _performance(primary[primary["route"] == r]))
                                      for r in routes) if p is not None}
    ab = _ab(ws, monitor, primary)
    if ab is not None:
        data["ab"] = ab
    return data


def _routes(primary: pd.DataFrame) -> dict[str, dict[str, Any]]:
    from kiln.monitoring.window import LABEL

    out: dict[str, dict[str, Any]] = {}
    for route, part in primary.groupby("route", sort=True):
        out[str(route)] = {"route": str(route), "model": str(part["model"].iloc[-1]),
                           "model_version": int(part["model_version"].iloc[-1]),
                           "rows": len(part), "labelled": int(part[LABEL].notna().sum())}
    return out


def _drift(ws: Workspace, ref: Reference, primary: pd.DataFrame, columns: list[str]
           ) -> dict[str, Any]:
    """Each feature against the reference profile. The window's own profile (on the
    reference's grid: histograms, never rows) is stored as an artifact for the report."""
    import json

    from kiln.monitoring.drift import detect_drift
    from kiln.monitoring.profile import Profile

    present = [c for c in columns if c in primary.columns and c in ref.features.columns]
    current = Profile.from_frame(_numeric(primary[present]), reference=ref.features,
                                 columns=present)
    result = detect_drift(ref.features, current, columns=present)
    body = to_data(result)
    cols = {str(c["column"]): c for c in body.pop("columns", [])}
    drifted = sorted(name for name, c in cols.items() if c.get("drifted"))
    stored = ws.artifacts.put_bytes(json.dumps(current.to_dict(), default=str).encode())
    share = result.share_of_drifted_features
    return {**body, "share_of_drifted_features": None if share is None else float(share),
            "n_drifted": len(drifted), "n_features": len(cols), "drifted": drifted,
            "missing_columns": [c for c in columns if c not in present],
            "columns": cols, "profile_artifact": stored.sha256}


def _prediction_drift(ref: Reference, primary: pd.DataFrame, route: str) -> dict[str, Any]:
    import pandas as pd

    from kiln.monitoring.drift import detect_drift
    from kiln.monitoring.reference import PREDICTION_COLUMN
    from kiln.monitoring.window import PREDICTION

    preds = primary[primary["route"] == route][PREDICTION]
    current = pd.DataFrame({PREDICTION_COLUMN: _maybe_numeric(preds)})
    result = detect_drift(ref.predictions, current, columns=[PREDICTION_COLUMN])
    found = [to_data(c) for c in _column_results(result)]
    out = dict(found[0]) if found else {}
    out["route"] = route
    out["drifted"] = bool(out.get("drifted", False))
    return out


def _quality(ref: Reference, primary: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """Missing values, out-of-range values and unseen categories against the reference
    profile of the serving version (its ranges and category sets)."""
    from kiln.monitoring.quality import check_quality

    result = check_quality(primary[[c for c in columns if c in primary.columns]],
                           ref.features)
    data: dict[str, Any] = to_data(result)
    data["share_out_of_range"] = result.share_out_of_range
    data["share_unseen"] = result.share_unseen
    return data


def _with_scores(ws: Workspace, primary: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Positive-class probabilities for labelled rows whose log holds only class labels
    (a binary classifier's ``predict``), from their model version's ``predict_proba``:
    so ROC AUC and log loss can be reported. Models without probabilities are left as is."""
    from kiln.monitoring.window import LABEL, PREDICTION, SCORE

    need = primary[LABEL].notna() & primary[SCORE].isna()
    if not need.any() or _task(primary.loc[need, LABEL], primary.loc[need, PREDICTION]) != \
            "classification":
        return primary
    out = primary.copy()
    for (model, version), part in out[need].groupby(["model", "model_version"]):
        try:
            loaded = ws.load_model(f"models:/{model}/{int(str(version))}")
            proba = loaded.predict_proba(part[features])
        except Exception:  # no probabilities (or not these inputs): no AUC, nothing else lost
            continue
        if getattr(proba, "ndim", 0) == 2 and proba.shape[1] == 2:
            out.loc[part.index, SCORE] = proba[:, 1]
    return out


def _task(labels: pd.Series, preds: pd.Series) -> str:
    """``classification`` for text, booleans or a few whole numbers; else ``regression``."""
    import pandas as pd

    both = pd.concat([labels, preds], ignore_index=True)
    numbers = pd.to_numeric(both, errors="coerce")
    if numbers.isna().any() or both.dtype == bool:
        return "classification"
    if bool((numbers % 1 == 0).all()) and numbers.nunique() <= MAX_CLASSES:
        return "classification"
    return "regression"


def _performance(part: pd.DataFrame) -> dict[str, Any] | None:
    from kiln.monitoring.window import LABEL, PREDICTION, SCORE

    labelled = part[part[LABEL].notna()]
    if not len(labelled):
        return None
    y, pred = labelled[LABEL], labelled[PREDICTION]
    if _task(y, pred) == "classification":
        from kiln.monitoring.performance import classification_metrics

        scores = labelled[SCORE]
        y_score = scores.to_numpy(dtype=float) if scores.notna().all() else None
        result: Any = classification_metrics(_maybe_numeric(y), _maybe_numeric(pred),
                                             y_score=y_score)
    else:
        from kiln.monitoring.performance import regression_metrics

        result = regression_metrics(y.to_numpy(dtype=float), pred.to_numpy(dtype=float))
    body = to_data(result)
    body.pop("type", None)
    body.pop("version", None)
    metrics = body.pop("metrics", {}) or {}
    return {**body, **metrics, "metrics": sorted(metrics), "n_labelled": len(labelled)}


def _ab(ws: Workspace, monitor: Monitor, primary: pd.DataFrame) -> dict[str, Any] | None:
    """Control (the deployment's first route) against the route with the most labels."""
    from kiln.monitoring.abtest import compare_routes
    from kiln.monitoring.window import LABEL, PREDICTION

    labelled = primary[primary[LABEL].notna()]
    seen = labelled["route"].value_counts()
    if len(seen) < 2:
        return None
    dep = ws.get_deployment(monitor.deployment)
    order = [r.target for r in dep.routes]
    control = next((r for r in order if r in seen.index), str(seen.index[0]))
    treatment = next(str(r) for r in seen.index if r != control)
    a, b = labelled[labelled["route"] == control], labelled[labelled["route"] == treatment]
    better_high = True
    if _task(labelled[LABEL], labelled[PREDICTION]) == "classification":
        kind, metric = "proportion", "accuracy"
        xa: Any = (a[PREDICTION].astype(str) == a[LABEL].astype(str)).to_numpy(dtype=float)
        xb: Any = (b[PREDICTION].astype(str) == b[LABEL].astype(str)).to_numpy(dtype=float)
    else:
        kind, metric, better_high = "mean", "abs_error", False
        xa = (a[PREDICTION].astype(float) - a[LABEL].astype(float)).abs().to_numpy()
        xb = (b[PREDICTION].astype(float) - b[LABEL].astype(float)).abs().to_numpy()
    result = compare_routes(xa, xb, metric_kind=kind, names=(control, treatment),
                            higher_is_better=better_high,
                            alpha=float(monitor.config.get("alpha", 0.05)),
                            min_effect=float(monitor.config.get("min_effect", 0.02)))
    body = to_data(result)
    body.pop("type", None)
    body.pop("version", None)
    return {"control": control, "treatment": treatment, "metric": metric,
            "winner_route": result.winner, **body}


def _column_results(result: Any) -> list[Any]:
    cols = getattr(result, "columns", None)
    if isinstance(cols, dict):
        return list(cols.values())
    return list(cols or [])


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            converted = pd.to_numeric(out[col], errors="coerce")
            if converted.notna().sum() == out[col].notna().sum():
                out[col] = converted
    return out


def _maybe_numeric(values: pd.Series) -> Any:
    import pandas as pd

    converted = pd.to_numeric(values, errors="coerce")
    if converted.notna().all():
        return converted.to_numpy()
    return values.astype(str).to_numpy()


def to_data(obj: Any) -> Any:
    """A statistics object as JSON-able data (its ``to_dict`` when it has one)."""
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_data(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_data(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return obj.item()
    if isinstance(obj, float) and math.isinf(obj):
        return None
    return obj


def monitor_alerts(ws: Workspace, name: str, limit: int = 100) -> list[Alert]:
    """The monitor's alerts, newest first."""
    ws.store.get_monitor(name)
    return ws.store.list_alerts(name, limit=limit)
