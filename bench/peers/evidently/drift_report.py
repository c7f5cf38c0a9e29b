"""Evidently 0.7 DataDriftPreset on ref vs cur parquet (run with the evidently venv's python).
usage: drift_report.py DATA_DIR N  -> one JSON line: report time, peak RSS, drifted columns.
Timed: Dataset.from_pandas x2 + Report.run (as /work/shared/peer-bench/evidently)."""
import json
import resource
import sys
import time

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

folder, n = sys.argv[1], int(sys.argv[2])
ref = pd.read_parquet(f"{folder}/ref_{n}.parquet")
cur = pd.read_parquet(f"{folder}/cur_{n}.parquet")
rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
num = [c for c in ref.columns if c.startswith("num_")]
cat = [c for c in ref.columns if c.startswith("cat_")]
dd = DataDefinition(numerical_columns=num, categorical_columns=cat)
t0 = time.perf_counter()
rds = Dataset.from_pandas(ref, data_definition=dd)
cds = Dataset.from_pandas(cur, data_definition=dd)
snap = Report([DataDriftPreset()]).run(current_data=cds, reference_data=rds)
seconds = time.perf_counter() - t0
drifted, tests = [], {}
for m in snap.dict()["metrics"]:
    cfg = m.get("config", {})
    if cfg.get("type", "").endswith("ValueDrift") or "ValueDrift" in m.get("metric_name", ""):
        column, value, threshold = cfg.get("column"), m.get("value"), cfg.get("threshold")
        method = str(cfg.get("method"))
        tests[column] = method
        p_value = "p_value" in method.lower()
        if value is not None and (value < threshold if p_value else value >= threshold):
            drifted.append(column)
print(json.dumps({"tool": "evidently", "version": evidently.__version__, "n": n,
                  "seconds": seconds, "maxrss_loaded_mb": rss_loaded / 1024,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "drifted": drifted, "tests": tests}))
