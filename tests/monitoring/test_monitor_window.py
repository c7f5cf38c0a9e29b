"""Windows of the prediction log: every request format back into rows, feedback joined by
request id, bad feedback refused, empty windows stored as empty, monitors on schedule."""

from __future__ import annotations

import pytest
from monitor_data import churn_frame, numeric
from starlette.testclient import TestClient

from kiln._time import now_ms
from kiln.exceptions import InvalidArgumentError, NotFoundError
from kiln.monitoring.window import LABEL, PREDICTION, read_window
from kiln.serving.app import ServingApp
from kiln.workspace import Workspace


def test_every_request_format_comes_back_as_rows_with_labels(deployed: Workspace) -> None:
    ws = deployed
    rows = numeric(churn_frame(5, seed=1))
    recs = rows.to_dict(orient="records")
    start = now_ms()
    ids = []
    with TestClient(ServingApp(ws, "churn").app) as client:
        bodies = [
            ("/predict", {"records": recs[:1]}),
            ("/predict", {"columns": {"age": [recs[1]["age"], recs[2]["age"]],
                                      "balance": [recs[1]["balance"], recs[2]["balance"]]}}),
            ("/invocations", {"dataframe_split": {"columns": ["age", "balance"],
                                                  "data": [[recs[3]["age"],
                                                            recs[3]["balance"]]]}}),
            ("/v2/models/churn/infer", {"inputs": [
                {"name": "age", "datatype": "FP64", "shape": [1], "data": [recs[4]["age"]]},
                {"name": "balance", "datatype": "FP64", "shape": [1],
                 "data": [recs[4]["balance"]]}]}),
        ]
        for path, body in bodies:
            resp = client.post(path, json=body)
            assert resp.status_code == 200, resp.text
            ids.append(resp.headers["x-request-id"])
        assert client.post("/predict", json={"records": [{"age": "old"}]}).status_code == 422
        client.post("/feedback", json={"items": [
            {"request_id": ids[0], "label": 1}, {"request_id": ids[1], "label": [0, 1]},
            {"request_id": ids[2], "label": [0, 1]}]})  # 2 labels for 1 row: refused later
    window = read_window(ws, "churn", start, now_ms())
    frame = window.frame
    assert (window.requests, window.errors, len(frame)) == (5, 1, 5)
    assert window.features == ["age", "balance"]
    assert frame["age"].round(1).tolist() == rows["age"].round(1).tolist()
    assert frame["request_id"].tolist() == [ids[0], ids[1], ids[1], ids[2], ids[3]]
    assert frame[LABEL].tolist()[:3] == [1, 0, 1] and frame[LABEL].isna().tolist()[3:] == [
        True, True]
    assert set(frame[PREDICTION]) <= {0, 1}
    assert window.invalid_labels == [ids[2]]
    assert len(window.labelled) == 3


def test_bad_feedback_is_refused_in_one_line(deployed: Workspace) -> None:
    ws = deployed
    with TestClient(ServingApp(ws, "churn").app) as client:
        rid = client.post("/predict", json={"records": [{"age": 30.0, "balance": 900.0}]}
                          ).json()["request_id"]
    with pytest.raises(InvalidArgumentError, match="request id 'nope': no such request"):
        ws.record_feedback("churn", {"nope": 1})
    with pytest.raises(InvalidArgumentError, match=r"label .*'y': 1.* is a dict; accepted"):
        ws.record_feedback("churn", {rid: {"y": 1}})
    with pytest.raises(InvalidArgumentError, match=r"'yes' .* is text, but the model predicts"):
        ws.record_feedback("churn", {rid: "yes"})
    with pytest.raises(InvalidArgumentError, match="has 2 labels for 1 predicted rows"):
        ws.record_feedback("churn", {rid: [1, 0]})
    assert ws.read_feedback("churn").empty
    assert ws.record_feedback("churn", {rid: 1}) == 1
    assert ws.read_feedback("churn")["label"].tolist() == [1]


def test_unknown_deployment_and_empty_windows(deployed: Workspace) -> None:
    ws = deployed
    with pytest.raises(NotFoundError, match="deployment 'nope' does not exist; deployments: "
                                            "'churn'"):
        ws.create_monitor("m", "nope")
    ws.create_monitor("m", "churn", every="1h", window="1h", schedule=False)
    result = ws.run_monitor("m")
    assert (result.status, result.rows, result.seq) == ("empty", 0, 1)
    assert "nothing to measure (not 'no drift')" in result.data["message"]
    assert "drift" not in result.data


@pytest.mark.parametrize(("every", "window", "message"), [
    ("7m", "1h", "does not line up with the clock"),
    ("1h", "soon", "window 'soon' is not accepted"),
    ("-1h", "1h", "every '-1h' is not accepted"),
])
def test_bad_schedules_are_refused(deployed: Workspace, every: str, window: str,
                                   message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        deployed.create_monitor("m", "churn", every=every, window=window)
    assert deployed.store.list_monitors() == []


def test_the_scheduler_runs_monitors_on_their_schedule(deployed: Workspace) -> None:
    from kiln.pipelines.scheduler import Scheduler

    ws = deployed
    ws.create_monitor("every-10s", "churn", every="10s", window="1h")
    scheduler = Scheduler(ws, interval=1.0)
    now = now_ms()
    assert scheduler.tick(now) == []  # the trigger's first state
    fired = scheduler.tick(now + 11_000)
    assert [(f.status, f.trigger_id.endswith("#monitor:every-10s")) for f in fired] == [
        ("FINISHED", True)]
    assert [r.status for r in ws.monitor_results("every-10s")] == ["empty"]
    assert scheduler.tick(now + 11_000) == []  # the same window is not run twice
    ws.store.delete_monitor("every-10s")
    assert [f.status for f in scheduler.tick(now + 22_000)] == ["FINISHED"]  # passed over


def test_a_model_without_training_data_still_gets_performance(deployed: Workspace) -> None:
    from monitor_data import churn_frame as frame_of

    from kiln.monitoring.demo import send_traffic

    ws = deployed
    model = ws.load_model("models:/churn-clf/1").raw
    ws.log_model(None, model, "orphan", input_example=numeric(frame_of(3)))  # no run, no data
    ws.set_alias("orphan", "production", 1)
    ws.create_deployment("orphan", ["orphan@production:1"])
    ws.create_monitor("o", "orphan", schedule=False)
    traffic = frame_of(40, seed=3)
    send_traffic(ws, "orphan", numeric(traffic), traffic["churned"], 40)
    result = ws.run_monitor("o")
    assert result.status == "ok" and "drift" not in result.data
    assert ("orphan version 1 has no training dataset in its lineage; name one: kiln monitor "
            "profile orphan@1 --dataset NAME@VERSION") in result.data["reference_error"]
    assert result.data["performance"]["n_labelled"] == 40
