"""search_runs stays index-driven: the ordered query walks an index and stops at the page.

A plan check rather than a timing (timings live in bench/): on 2,000 runs the
query planner already shows whether ordering needs a full sort of every run.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path

from sqlalchemy import text

from kiln.metadata import schema as t
from kiln.metadata.base import RunQuery
from kiln.metadata.filters import parse_filter, parse_order_by
from kiln.metadata.sql import SqlMetadataStore
from kiln.metadata.sql.search import search_run_ids


def _populate(store: SqlMetadataStore, n: int) -> int:
    exp = store.get_or_create_experiment("big").experiment_id
    rng = random.Random(0)
    runs, params, metrics = [], [], []
    for i in range(n):
        rid = uuid.uuid4().hex
        runs.append({"run_id": rid, "experiment_id": exp, "name": f"r{i}", "status": "FINISHED",
                     "start_time": i, "end_time": i + 1, "user": "u"})
        params.append({"run_id": rid, "key": "p1", "value": rng.choice("xyzw"),
                       "experiment_id": exp})
        metrics.append({"run_id": rid, "key": "m0", "value": rng.random(), "step": 0,
                        "timestamp": 1, "experiment_id": exp})
    with store.engine.begin() as conn:
        conn.execute(t.runs.insert(), runs)
        conn.execute(t.params.insert(), params)
        conn.execute(t.latest_metrics.insert(), metrics)
    return exp


def test_ordered_filtered_search_uses_the_metric_index(tmp_path: Path) -> None:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'k.db'}")
    exp = _populate(store, 2000)
    query = RunQuery(experiment_ids=[exp],
                     clauses=parse_filter("metrics.m0 > 0.5 and params.p1 = 'x'"),
                     order_by=parse_order_by(["metrics.m0 DESC"]), max_results=10)
    statements: list[str] = []
    with store.engine.connect() as conn:
        conn.connection.driver_connection.set_trace_callback(statements.append)  # type: ignore[union-attr]
        ids = search_run_ids(conn, query)
        conn.connection.driver_connection.set_trace_callback(None)  # type: ignore[union-attr]
        select = next(s for s in statements if s.startswith("SELECT runs.run_id"))
        plan = " ".join(str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + select)))
    assert "ix_latest_metrics_experiment_key_value" in plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan  # no full sort of every match
    # and the answer is the brute-force one
    runs = store.search_runs(RunQuery(experiment_ids=[exp], max_results=5000))
    expected = sorted((r for r in runs if r.metrics["m0"] > 0.5 and r.params["p1"] == "x"),
                      key=lambda r: -r.metrics["m0"])[:10]
    assert ids == [r.run_id for r in expected]
    store.close()
