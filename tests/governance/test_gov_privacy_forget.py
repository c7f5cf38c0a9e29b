"""``kiln privacy forget`` end to end: prediction logs, feedback, online features (SQLite
and Redis) and dataset versions lose the subject's rows; the audit log records it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import kiln
from kiln.cli.main import cli
from kiln.features import Entity, Feature, FeatureView, ParquetSource
from kiln.serving.predlog import LogRecord, PredictionLogger
from kiln.settings import Settings
from kiln.workspace import Workspace

from .helpers import register

SUBJECT, OTHER = 123, 456


@pytest.fixture(params=["sqlite", "redis"])
def online_ws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    online = "" if request.param == "sqlite" else request.getfixturevalue("redis_url")
    ws = Workspace(settings=Settings(home=tmp_path / ".kiln", online_store=online))
    yield ws
    ws.close()


def _record(i: int, customer: int, ts: int) -> LogRecord:
    body = {"inputs": [{"customer_id": customer, "x1": 0.1 * i, "x2": 0.0, "x3": 1.0}]}
    return LogRecord(f"req-{i}", ts, "churn", 1, "churn-clf@production", "churn-clf", 1,
                     False, 200, 1.5, json.dumps(body).encode(), [0])


def _populate(ws: Workspace, tmp_path: Path) -> None:
    mv = register(ws)
    ws.set_alias("churn-clf", "production", mv.version)
    ws.create_deployment("churn", ["churn-clf@production:1"])
    logger = PredictionLogger(ws.store, ws.artifacts, "churn")
    for i, customer in enumerate([SUBJECT, OTHER, SUBJECT, OTHER]):  # batch 1: mixed
        logger.log(_record(i, customer, 1000 + i))
    logger.flush()
    logger.log(_record(10, SUBJECT, 2000))  # batch 2: only the subject
    logger.flush()
    ws.log_feedback("churn", {"req-0": 1, "req-1": 0, "req-10": 1})

    stats = pd.DataFrame({"customer_id": [SUBJECT, OTHER],
                          "event_timestamp": pd.to_datetime(["2026-11-01", "2026-11-01"],
                                                            utc=True),
                          "spend": [10.0, 20.0]})
    stats.to_parquet(tmp_path / "stats.parquet")
    customer = Entity("customer", join_keys=["customer_id"])
    source = ParquetSource(str(tmp_path / "stats.parquet"))
    ws.apply_features([customer, FeatureView("customer_stats", entities=[customer],
                                             source=source,
                                             features=[Feature("spend", "float64")])])
    ws.materialize(end="2026-11-20")

    for rows in ([SUBJECT, OTHER], [OTHER, SUBJECT, 789]):  # v1, v2 (the latest)
        pd.DataFrame({"customer_id": rows, "age": range(len(rows))}).to_csv(
            tmp_path / "customers.csv", index=False)
        ws.add_dataset(tmp_path / "customers.csv", "customers", pointer=False)


def test_forget_removes_the_subject_everywhere(online_ws: Workspace, tmp_path: Path) -> None:
    ws = online_ws
    _populate(ws, tmp_path)
    old_batches = [b.artifact for b in ws.store.list_prediction_logs("churn")]
    runner = CliRunner()
    with kiln.use_workspace(ws):
        dry = runner.invoke(cli, ["privacy", "forget", "--key", f"customer_id={SUBJECT}",
                                  "--dry-run", "--json"])
        assert dry.exit_code == 0, dry.output
        assert [b.artifact for b in ws.store.list_prediction_logs("churn")] == old_batches
        out = runner.invoke(cli, ["privacy", "forget", "--key", f"customer_id={SUBJECT}",
                                  "--json"])
    assert out.exit_code == 0, out.output
    reports = {r["forgetter"]: r for r in json.loads(out.output)}

    # prediction logs: batch 1 rewritten without the subject, batch 2 gone from the index
    log = ws.read_prediction_log("churn")
    assert sorted(log["request_id"]) == ["req-1", "req-3"]
    assert all(str(SUBJECT) not in text for text in log["inputs"])
    batches = ws.store.list_prediction_logs("churn")
    assert len(batches) == 1 and batches[0].artifact not in old_batches
    assert not any(ws.artifacts.exists(a) for a in old_batches)  # old files deleted
    assert any("2 request(s); rewritten as" in r for r in reports["predictions"]["removed"])
    # feedback of the subject's requests
    assert sorted(ws.read_feedback("churn")["request_id"]) == ["req-1"]
    # online features
    online = ws.get_online_features([{"customer_id": SUBJECT}, {"customer_id": OTHER}],
                                    ["customer_stats:spend"]).to_dict()
    assert online["spend"] == [None, 20.0]
    assert reports["online_features"]["removed"]
    # datasets: a new version without the subject; the older one listed, not rewritten
    versions = ws.dataset_versions("customers")
    assert [v.version for v in versions] == [1, 2, 3]
    assert sorted(ws.dataset_frame("customers@3")["customer_id"]) == [OTHER, 789]
    assert SUBJECT in set(ws.dataset_frame("customers@2")["customer_id"])  # history kept
    assert "without 1 row(s) of a data subject" in versions[-1].description
    assert reports["datasets"]["needs_removal"] == ["dataset customers@1: 1 row(s) (an older "
                                                    "version)"]
    # the audit log: hashed key, old -> new of every rewrite, and the chain still verifies
    event = ws.audit_log(action="privacy.forget")[-1]
    assert str(SUBJECT) not in event.object_id and event.object_id.startswith("customer_id:")
    rewrites = event.after["predictions"]["changes"]
    assert {c["old"] for c in rewrites if "old" in c} == set(old_batches)
    assert event.after["datasets"]["changes"] == [
        {"dataset": "customers", "old": "customers@2", "new": "customers@3",
         "rows_removed": 1}]
    assert ws.verify_audit_log().ok


def test_forget_twice_finds_nothing_more(tmp_path: Path) -> None:
    with Workspace(home=tmp_path / ".kiln") as ws:
        _populate(ws, tmp_path)
        from kiln.governance.privacy import forget

        forget(ws, "customer_id", str(SUBJECT))
        second = {r.forgetter: r for r in forget(ws, "customer_id", str(SUBJECT))}
        assert second["predictions"].removed == [] and second["online_features"].removed == []
        assert second["datasets"].removed == []
        assert len(ws.dataset_versions("customers")) == 3


def test_a_packed_object_is_deleted_from_its_pack(tmp_path: Path) -> None:
    from kiln.artifacts.local import LocalArtifactStore
    from kiln.governance.forget import _delete_local

    ws = Workspace(settings=Settings(home=tmp_path / ".kiln"))
    store = ws.artifacts
    assert isinstance(store, LocalArtifactStore)
    with store.packer() as pack:
        gone, keep = pack.add(b'{"user": 123}'), pack.add(b'{"user": 456}')
    assert _delete_local(ws, gone)
    assert not store.exists(gone) and store.get_bytes(keep) == b'{"user": 456}'
    packs = list((tmp_path / ".kiln" / "artifacts" / "packs").glob("*.pack"))
    assert packs and all(b'"user": 123' not in p.read_bytes() for p in packs)
    ws.close()
