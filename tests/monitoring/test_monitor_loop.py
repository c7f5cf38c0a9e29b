"""The whole loop on PostgreSQL: traffic drifts, the monitor alerts, the scheduler's
on_alert trigger retrains, the challenger takes half the traffic, the A/B analysis finds
it better, it is promoted through the gates; the chain is in the lineage."""

from __future__ import annotations

from pathlib import Path

import pytest
from monitor_data import churn_frame, numeric, train

from kiln.monitoring.demo import _tick, retraining_pipeline, send_traffic
from kiln.monitoring.loop import loop_chain, promote_if_better
from kiln.pipelines.scheduler import Scheduler
from kiln.workspace import Workspace


def _traffic(ws: Workspace, n: int, seed: int, shift: float = 0.0) -> dict[str, int]:
    frame = churn_frame(n, seed=seed, shift=shift)
    return send_traffic(ws, "churn", numeric(frame), frame["churned"], n)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_loop_closes_end_to_end_on_postgres(pg_ws: Workspace, tmp_path: Path) -> None:
    ws = pg_ws
    train(ws, churn_frame(400), tmp_path)
    ws.set_alias("churn-clf", "production", 1)
    ws.create_deployment("churn", ["churn-clf@production:100"])
    ws.create_monitor("churn-drift", "churn", every="1h", window="24h", schedule=False,
                      promote=True)
    ws.add_alert_rule("churn-drift", "drift.share_of_drifted_features > 0.3", name="drift")
    ws.add_alert_rule("churn-drift", "performance.accuracy < 0.9 for 2 windows",
                      name="accuracy", sinks=["log"])
    scheduler = Scheduler(ws, pipelines=[retraining_pipeline("churn-drift")])
    assert scheduler.tick() == []

    t0 = _tick()
    _traffic(ws, 120, seed=1)
    t1 = _tick()
    calm = ws.run_monitor("churn-drift", start=t0, end=t1)
    assert calm.data["drift"]["share_of_drifted_features"] == 0.0
    assert calm.data["performance"]["accuracy"] > 0.85
    assert calm.data["performance"]["n_labelled"] == 120
    assert calm.data["performance"]["roc_auc"] > 0.9  # scores from the version's predict_proba
    assert calm.data["reference"] == {"model": "churn-clf", "version": 1,
                                      "dataset": "churn@1", "rows": 400}
    assert ws.list_alerts() == []

    _traffic(ws, 160, seed=2, shift=1.0)
    t2 = _tick()
    drifted = ws.run_monitor("churn-drift", start=t1, end=t2)
    assert drifted.data["drift"]["drifted"] == ["age", "balance"]
    assert drifted.data["prediction_drift"]["drifted"] is True
    assert drifted.data["performance"]["accuracy"] < 0.7
    assert drifted.data["quality"]["share_out_of_range"] > 0
    [alert] = ws.list_alerts("churn-drift")  # accuracy needs 2 windows below 0.9
    assert (alert.rule, alert.window_seq, alert.value) == ("drift", 2, 1.0)
    assert alert.event_id > 0

    [fired] = scheduler.tick()
    assert (fired.fire_key, fired.status) == (f"alert:{alert.event_id}", "FINISHED")
    assert ws.store.get_alias("churn-clf", "challenger") == 2
    dep = ws.get_deployment("churn")
    assert [(r.target, r.weight) for r in dep.routes] == [("churn-clf@production", 50.0),
                                                          ("churn-clf@challenger", 50.0)]

    routes = _traffic(ws, 300, seed=3, shift=1.0)
    assert set(routes) == {"churn-clf@production", "churn-clf@challenger"}
    t3 = _tick()
    ab_window = ws.run_monitor("churn-drift", start=t2, end=t3)
    ab = ab_window.data["ab"]
    assert (ab["control"], ab["treatment"]) == ("churn-clf@production", "churn-clf@challenger")
    assert ab["test"] == "two-proportion z-test" and ab["significant"] is True
    assert ab["winner_route"] == "churn-clf@challenger" and ab["p_value"] < 0.001
    by_route = ab_window.data["performance_by_route"]
    assert by_route["churn-clf@challenger"]["accuracy"] > by_route["churn-clf@production"][
        "accuracy"] + 0.2
    # the accuracy rule held for 2 windows (2 and 3) on the production-heavy traffic
    assert [a.rule for a in ws.list_alerts("churn-drift")] == ["accuracy", "drift"]

    # the monitor (promote=True) promoted the challenger after that window
    assert ws.store.get_alias("churn-clf", "production") == 2
    again = promote_if_better(ws, "churn-drift", ab_window)
    assert not again.promoted and "does not involve a 'challenger' route" in again.reason
    assert [(r.target, r.weight) for r in ws.get_deployment("churn").routes] == [
        ("churn-clf@production", 100.0)]
    promoted = ws.store.list_audit_events(object_kind="model", object_id="churn-clf",
                                          action="model.promote")
    assert promoted[-1].after["version"] == 2

    chain = loop_chain(ws, alert.alert_id)
    run_id = fired.run_id
    assert (f"alert:{alert.alert_id} -triggered-> run:{run_id} -produced-> "
            "model_version:churn-clf/2 -promoted-> deployment_version:churn/3") in chain
    assert any(line.endswith("-deployed-> deployment_version:churn/2") or
               "-deployed-> deployment_version:churn/2 " in line for line in chain)

    # after the promotion the monitor compares traffic with the new version's own
    # reference: its training data is the labelled window, found through the lineage
    _traffic(ws, 80, seed=4, shift=1.0)
    after = ws.run_monitor("churn-drift", start=t3, end=_tick())
    assert after.data["reference"]["version"] == 2
    assert after.data["reference"]["dataset"] == "churn-clf-feedback@1"
    # against v1's reference both features drifted; against v2's own they no longer do
    # (at most one false alarm at alpha 0.05 on samples of 160 and 80 rows)
    assert after.data["drift"]["share_of_drifted_features"] <= 0.5
