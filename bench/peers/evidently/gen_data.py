"""Reference/current frames of the Evidently drift benchmark (the generator of
/work/shared/peer-bench/evidently/gen_data.py, unchanged in substance): 20 numeric + 5
categorical columns; reference default_rng(2024), current default_rng(2025); shifted in the
current: num_0 mean +0.5 sd, num_1 sd x1.5, num_2 mean +0.2 sd, cat_0 uniform shares,
cat_1 a new level "NEW" on 10% of rows.  usage: gen_data.py N OUTDIR"""
import os
import sys

import numpy as np
import pandas as pd

NUM, CAT = 20, 5
SHIFTED = ["num_0", "num_1", "num_2", "cat_0", "cat_1"]


def make(n, seed, shifted):
    rng = np.random.default_rng(seed)
    d = {}
    for j in range(NUM):
        kind = j % 4
        if j < 3 or kind == 0:
            mu, sd = 0.0, 1.0
            if shifted and j == 0:
                mu = 0.5
            if shifted and j == 1:
                sd = 1.5
            if shifted and j == 2:
                mu = 0.2
            d[f"num_{j}"] = rng.normal(mu, sd, n)
        elif kind == 1:
            d[f"num_{j}"] = rng.lognormal(0.0, 0.75, n)
        elif kind == 2:
            d[f"num_{j}"] = rng.uniform(-3, 3, n)
        else:
            d[f"num_{j}"] = rng.poisson(4, n).astype(np.float64)
    levels = np.array(["a", "b", "c", "d"])
    for j in range(CAT):
        p = [0.4, 0.3, 0.2, 0.1]
        if shifted and j == 0:
            p = [0.25, 0.25, 0.25, 0.25]
        col = levels[rng.choice(4, n, p=p)].astype(object)
        if shifted and j == 1:
            col[rng.random(n) < 0.10] = "NEW"
        d[f"cat_{j}"] = col
    df = pd.DataFrame(d)
    for j in range(CAT):
        df[f"cat_{j}"] = df[f"cat_{j}"].astype(str)
    return df


if __name__ == "__main__":
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    make(n, 2024, False).to_parquet(f"{out}/ref_{n}.parquet", index=False)
    make(n, 2025, True).to_parquet(f"{out}/cur_{n}.parquet", index=False)
