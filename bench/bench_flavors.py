"""ONNX Runtime against each framework's native predict, same model, same rows, same run.

    .venv/bin/python bench/bench_flavors.py           # 10,000-row data, full repetitions
    .venv/bin/python bench/bench_flavors.py --quick   # fewer repetitions

For scikit-learn (scaler + logistic regression, and a 100-tree random forest), PyTorch
(an MLP), XGBoost and LightGBM (100 trees each) and Keras 3 on PyTorch (an MLP): fit on
synthetic data (20 float features), register with kiln, convert with
``kiln.registry.convert.convert_to_onnx`` (checked), then time the native predict and
kiln's ONNX Runtime predictor on single rows and on 10,000 rows. Medians; the ratio is
native time / ONNX time (above 1: ONNX Runtime is faster). Results: bench/results/flavors.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("KERAS_BACKEND", "torch")
BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "flavors.json"
FEATURES = 20
ROWS = 10_000


def median_ms(fn: Callable[[], Any], reps: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def data() -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(ROWS, FEATURES)).astype("float32")
    y = ((X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + rng.normal(scale=0.5, size=ROWS)) > 0).astype(int)
    return X, y


def models(X: Any, y: Any) -> dict[str, tuple[Any, Callable[[Any], Any]]]:
    """name -> (model to register, native predict on a float32 matrix)."""
    import keras
    import lightgbm
    import torch
    import xgboost
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out: dict[str, tuple[Any, Callable[[Any], Any]]] = {}
    lr = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    out["sklearn-logreg"] = (lr, lr.predict)
    rf = RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0).fit(X, y)
    out["sklearn-forest"] = (rf, rf.predict)
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(FEATURES, 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    mlp.eval()

    def torch_predict(m: Any) -> Any:
        with torch.no_grad():
            return mlp(torch.from_numpy(m)).numpy()

    out["torch-mlp"] = (mlp, torch_predict)
    xgb = xgboost.XGBClassifier(n_estimators=100, max_depth=6).fit(X, y)
    out["xgboost"] = (xgb, xgb.predict)
    lgb = lightgbm.LGBMClassifier(n_estimators=100, num_leaves=31, verbose=-1).fit(X, y)
    out["lightgbm"] = (lgb, lgb.predict)
    keras.utils.set_random_seed(0)
    km = keras.Sequential([keras.Input(shape=(FEATURES,)),
                           keras.layers.Dense(64, activation="relu"),
                           keras.layers.Dense(64, activation="relu"),
                           keras.layers.Dense(1, activation="sigmoid")])
    km.compile(optimizer="adam", loss="binary_crossentropy")
    km.fit(X[:2000], y[:2000], epochs=1, verbose=0)
    out["keras-mlp"] = (km, lambda m: keras.ops.convert_to_numpy(km(m, training=False)))
    return out


def keras_to_onnx(model: Any, X: Any, path: Path) -> Any:
    """Keras 3 on the torch backend is a torch module: export it the way the torch flavor's
    conversion does (kiln's `convert` has no Keras converter yet)."""
    import torch

    torch.onnx.export(model, (torch.from_numpy(X[:2]),), str(path), input_names=["input"],
                      output_names=["output"], dynamo=False,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import numpy as np

    from kiln.registry.convert import convert_to_onnx
    from kiln.registry.flavors.onnx import OnnxPredictor
    from kiln.registry.inference import load_for_inference
    from kiln.workspace import Workspace

    single_reps, bulk_reps = (100, 5) if args.quick else (500, 15)
    X, y = data()
    row = X[:1]
    results: dict[str, Any] = {}
    started, load_start = time.time(), os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(home=Path(tmp) / ".kiln")
        for name, (model, native) in models(X, y).items():
            entry: dict[str, Any] = {}
            try:
                if name.startswith("keras"):
                    onnx: Any = OnnxPredictor(keras_to_onnx(model, X, Path(tmp) / "k.onnx"))
                    diff = float(np.max(np.abs(np.ravel(native(X[:100])) -
                                               onnx.predict(X[:100]))))
                    entry["check"] = f"max |diff| {diff:.1e} on 100 rows (exported directly)"
                else:
                    mv = ws.log_model(None, model, name, input_example=X[:5])
                    assert mv is not None
                    done = convert_to_onnx(ws, name, mv.version)
                    onnx = load_for_inference(ws, name, mv.version).raw
                    entry["check"] = (f"max |diff| {done.max_abs_diff:.1e} <= "
                                      f"{done.tolerance:.0e} ({done.converter})")
            except Exception as exc:  # a framework that does not convert: say so
                entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                results[name] = entry
                print(f"{name:15s} not converted: {entry['error']}")
                continue
            for label, batch, reps in (("1 row", row, single_reps),
                                       ("10,000 rows", X, bulk_reps)):
                n = median_ms(lambda b=batch: native(b), reps)
                o = median_ms(lambda b=batch: onnx.predict(b), reps)
                entry[label] = {"native_ms": n, "onnx_ms": o, "speedup": n / o}
                print(f"{name:15s} {label:12s} native {n:9.3f} ms   onnx {o:9.3f} ms   "
                      f"speed-up {n / o:6.2f}x", flush=True)
            results[name] = entry
        ws.close()
    import onnxruntime

    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "mode": "quick" if args.quick else "full",
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "duration_s": time.time() - started,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "onnxruntime": onnxruntime.__version__,
        "results": results,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"load average {os.getloadavg()}; wrote {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
