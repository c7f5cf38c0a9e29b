"""MLflow side of bench_governance.py (runs with the MLflow venv's python).

Prints one JSON line: create+end runs per second, and mlflow.models.evaluate seconds.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore")


def main() -> None:
    runs, reps = int(sys.argv[1]), int(sys.argv[2])
    tmp = tempfile.mkdtemp()
    os.chdir(tmp)
    import mlflow
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
    client = mlflow.MlflowClient()
    exp = client.create_experiment("bench")
    client.create_run(exp)  # warm-up (schema creation)
    start = time.perf_counter()
    for i in range(runs):
        run = client.create_run(exp, run_name=f"r{i}")
        client.set_terminated(run.info.run_id)
    create_end = runs / (time.perf_counter() - start)

    data = load_breast_cancer(as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X_train, y_train)
    mlflow.set_experiment("eval")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", input_example=X_train.head(5))
    holdout = X_test.assign(target=y_test)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        with mlflow.start_run():
            mlflow.models.evaluate(info.model_uri, holdout, targets="target",
                                   model_type="classifier", evaluators=["default"])
        times.append(time.perf_counter() - start)
    print(json.dumps({"create_end_per_s": create_end, "evaluate_s": statistics.median(times),
                      "version": mlflow.__version__}))


if __name__ == "__main__":
    main()
