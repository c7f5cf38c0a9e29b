"""The demo's flavor stage: a LightGBM model in its native format, converted to ONNX and
checked, then served through ONNX Runtime (small: 20 trees, about a second)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from kiln.registry.convert import Conversion
    from kiln.workspace import Workspace

MODEL_NAME = "breast-cancer-lgbm"
EXPERIMENT = "breast-cancer-lightgbm"


@dataclass(frozen=True)
class FlavorStageResult:
    """What the stage made: the conversion and the two predict times on the test set."""

    conversion: Conversion
    auc: float
    native_ms: float
    onnx_ms: float


def flavors_stage(ws: Workspace, console: Console, X_train: Any, X_test: Any, y_train: Any,
                  y_test: Any) -> FlavorStageResult:
    """Train and register a LightGBM model, convert it to ONNX, compare both on the test set."""
    import lightgbm
    from sklearn.metrics import roc_auc_score

    from kiln.registry.convert import convert_to_onnx
    from kiln.registry.inference import load_for_inference

    model = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, n_jobs=1, verbose=-1)
    run = ws.create_run(EXPERIMENT, name="lightgbm-20-trees")
    model.fit(X_train, y_train)
    proba: Any = model.predict_proba(X_test)
    auc = float(roc_auc_score(y_test, proba[:, 1]))
    ws.log_batch(run.run_id, metrics={"auc": auc}, params={"n_estimators": 20, "num_leaves": 7})
    mv = ws.log_model(run.run_id, model, MODEL_NAME, input_example=X_train.head(5))
    ws.end_run(run.run_id)
    assert mv is not None
    done = convert_to_onnx(ws, MODEL_NAME, mv.version)
    native = ws.load_model(f"models:/{MODEL_NAME}/{mv.version}")
    onnx = load_for_inference(ws, MODEL_NAME, mv.version)
    native_ms, onnx_ms = _best_ms(native.predict, X_test), _best_ms(onnx.predict, X_test)
    agree = float((native.predict(X_test) == onnx.predict(X_test)).mean())
    console.print(
        f"[bold]10. Flavors[/]: LightGBM (auc {auc:.4f}) registered as {MODEL_NAME} "
        f"v{mv.version} in LightGBM's text format; converted: {done.summary}. "
        f"Serving prefers the ONNX path: {len(X_test)} test rows in {onnx_ms:.2f} ms vs "
        f"{native_ms:.2f} ms native, {agree:.0%} same labels"
    )
    return FlavorStageResult(done, auc, native_ms, onnx_ms)


def _best_ms(predict: Any, data: Any, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        predict(data)
        best = min(best, time.perf_counter() - start)
    return best * 1000
