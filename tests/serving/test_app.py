"""The model server in-process (Starlette TestClient): endpoints, errors, logging, routing."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from starlette.testclient import TestClient

from kiln.serving.app import create_app
from kiln.serving.runtime import ServerOptions
from kiln.workspace import Workspace

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def records(X: pd.DataFrame, n: int = 1, start: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = X.iloc[start:start + n].to_dict(orient="records")
    return out


@pytest.fixture
def client(served: Workspace) -> Iterator[TestClient]:
    app = create_app(served, "churn", ServerOptions(max_body_bytes=200_000))
    with TestClient(app) as c:
        yield c


def _metric(client: TestClient, name: str, **labels: str) -> float:
    total = 0.0
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_predict_records_and_columns(client: TestClient, breast_cancer: Any) -> None:
    X, model = breast_cancer
    r = client.post("/predict", json={"records": records(X, 3)})
    assert r.status_code == 200
    body = r.json()
    assert body["predictions"] == model.predict(X.head(3)).tolist()
    assert body["route"] in ("bc@production", "bc@challenger")
    assert body["model_version"] == {"bc@production": 1, "bc@challenger": 2}[body["route"]]
    assert r.headers["x-request-id"] == body["request_id"]
    cols = client.post("/predict", json={"columns": X.head(3).to_dict(orient="list")})
    assert cols.json()["predictions"] == body["predictions"]
    mine = client.post("/predict", json={"records": records(X)}, headers={"x-request-id": "abc"})
    assert mine.headers["x-request-id"] == "abc"


def test_mlflow_invocations_formats(client: TestClient, breast_cancer: Any) -> None:
    X, model = breast_cancer
    expected = model.predict(X.head(2)).tolist()
    split = json.loads(X.head(2).to_json(orient="split", index=False))
    bodies = [
        {"dataframe_split": split},
        {"dataframe_records": records(X, 2)},
        {"instances": records(X, 2)},
        {"instances": X.head(2).values.tolist()},
        {"inputs": X.head(2).to_dict(orient="list")},
        {"inputs": X.head(2).values.tolist()},
    ]
    for body in bodies:
        r = client.post("/invocations", json=body)
        assert r.status_code == 200, (body.keys(), r.text)
        assert r.json() == {"predictions": expected}


def test_open_inference_protocol_v2(client: TestClient, breast_cancer: Any) -> None:
    X, model = breast_cancer
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200
    meta = client.get("/v2/models/churn").json()
    assert meta["name"] == "churn" and len(meta["inputs"]) == 30
    assert [r["route"] for r in meta["routes"]] == ["bc@production", "bc@challenger"]
    tensor = {"name": "input-0", "shape": [2, 30], "datatype": "FP64",
              "data": X.head(2).values.ravel().tolist()}
    r = client.post("/v2/models/churn/infer", json={"id": "q1", "inputs": [tensor]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["id"] == "q1" and out["model_name"] == "churn"
    assert out["outputs"][0]["data"] == model.predict(X.head(2)).tolist()
    assert out["outputs"][0]["shape"] == [2]
    per_column = [{"name": c, "shape": [2], "datatype": "FP64", "data": X[c].head(2).tolist()}
                  for c in X.columns]
    r = client.post("/v2/models/churn/infer", json={"inputs": per_column})
    assert r.json()["outputs"][0]["data"] == out["outputs"][0]["data"]
    missing = client.get("/v2/models/nope")
    assert missing.status_code == 404 and "'nope'" in missing.json()["error"]["message"]
    assert client.post("/v2/models/nope/infer", json={"inputs": [tensor]}).status_code == 404


@pytest.mark.parametrize(("body", "headers", "status", "kind"), [
    (b"{not json", {}, 400, "invalid_json"),
    (b'{"records": [{"a": 1}]}', {"content-type": "text/csv"}, 415, "unsupported_media_type"),
    (b'{"rows": []}', {}, 400, "bad_request"),
    (b'{"records": 5}', {}, 400, "bad_request"),
    (b'[1, 2]', {}, 400, "bad_request"),
    (b'{"columns": {"a": [1], "b": [1, 2]}}', {}, 400, "bad_request"),
    (b"x" * 300_000, {}, 413, "too_large"),
])
def test_bad_bodies_get_json_errors(client: TestClient, body: bytes, headers: dict[str, str],
                                    status: int, kind: str) -> None:
    r = client.post("/predict", content=body,
                    headers={"content-type": "application/json", **headers})
    assert r.status_code == status, r.text
    assert r.json()["error"]["type"] == kind
    assert _metric(client, "kiln_errors_total", kind=kind, status=str(status)) == 1
    assert client.post("/predict", json={"records": [{"a": 1}]}).status_code == 422  # still up


def test_signature_errors_name_the_field(client: TestClient, breast_cancer: Any) -> None:
    X, _ = breast_cancer
    rec = records(X)[0]
    missing = {k: v for k, v in rec.items() if k != "mean area"}
    r = client.post("/predict", json={"records": [missing]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "mean area"
    r = client.post("/predict", json={"records": [{**rec, "mean radius": "abc"}]})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "mean radius" and "'abc'" in r.text
    nan_body = json.dumps({"records": [{**rec, "mean texture": math.nan}]})
    r = client.post("/predict", content=nan_body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "mean texture"
    r = client.post("/predict", json={"records": [{**rec, "mean texture": None}]})
    assert r.status_code == 422
    r = client.post("/invocations", json={"instances": [[1.0, 2.0]]})
    assert r.status_code == 422 and "30 columns" in r.text
    assert _metric(client, "kiln_errors_total", kind="invalid_input") == 5


def test_a_model_that_raises_gives_500_and_the_server_goes_on(served: Workspace) -> None:
    served.create_deployment("flaky", ["flaky@production:1"])
    with TestClient(create_app(served, "flaky")) as c:
        bad = c.post("/predict", json={"records": [{"x": -1.0}]})
        assert bad.status_code == 500
        assert bad.json()["error"] == {"type": "model_error",
                                       "message": "the model raised ValueError: negative x"}
        good = c.post("/predict", json={"records": [{"x": 2.0}]})
        assert good.json()["predictions"] == [4.0]
        assert _metric(c, "kiln_requests_total", status="500") == 1
        assert _metric(c, "kiln_errors_total", kind="model_error") == 1


def test_shadows_are_logged_never_returned_and_every_request_is_logged(
        served: Workspace, breast_cancer: Any) -> None:
    X, _ = breast_cancer
    n = 60
    with TestClient(create_app(served, "churn")) as c:
        ids = [c.post("/predict", json={"records": records(X, 1, i)}).headers["x-request-id"]
               for i in range(n)]
        routes = {c.post("/predict", json={"records": records(X)}).json()["route"]
                  for _ in range(5)}
        assert "bc@candidate" not in routes
        assert _metric(c, "kiln_shadow_requests_total", route="bc@candidate", status="200") >= n
    log = served.read_prediction_log("churn")
    primary = log[~log["shadow"]]
    shadow = log[log["shadow"]]
    assert len(primary) == n + 5 and set(ids) <= set(primary["request_id"])
    assert len(shadow) == n + 5 and set(shadow["route"]) == {"bc@candidate"}
    assert set(shadow["model_version"]) == {3}
    assert (primary.groupby("route")["model_version"].first().to_dict()
            == {r: v for r, v in {"bc@production": 1, "bc@challenger": 2}.items()
                if r in set(primary["route"])})
    first = primary.iloc[0]
    assert json.loads(first["inputs"])["records"][0]["mean radius"] == X.iloc[0]["mean radius"]
    assert json.loads(first["outputs"]) in ([0], [1])
    assert first["deployment"] == "churn" and first["status"] == 200
    assert first["latency_ms"] > 0
    window = served.read_prediction_log("churn", start=int(log["timestamp"].max()) + 1)
    assert window.empty


def test_sticky_key_sends_a_customer_to_one_route(served: Workspace, breast_cancer: Any) -> None:
    X, _ = breast_cancer
    served.create_deployment("ab", ["bc@production:50", "bc@challenger:50"],
                             sticky_key="header:X-Customer")
    with TestClient(create_app(served, "ab", ServerOptions(log_predictions=False))) as c:
        seen: dict[str, set[str]] = {}
        for i in range(80):
            customer = f"c{i % 8}"
            r = c.post("/predict", json={"records": records(X)},
                       headers={"x-customer": customer})
            seen.setdefault(customer, set()).add(r.json()["route"])
    assert all(len(routes) == 1 for routes in seen.values())
    assert {r for routes in seen.values() for r in routes} == {"bc@production", "bc@challenger"}


def test_canary_rolls_back_when_its_error_rate_is_too_high(served: Workspace,
                                                           breast_cancer: Any) -> None:
    from kiln.entities import CanaryPolicy

    served.log_model(None, lambda df: df["x"] * 3, "flaky",
                     input_example=pd.DataFrame({"x": [1.0]}))
    served.set_alias("flaky", "stable", 2)
    served.create_deployment("canary", ["flaky@stable:50", "flaky@production:50"],
                             canary=CanaryPolicy("flaky@production", max_error_rate=0.2,
                                                 window=20, min_requests=10))
    with TestClient(create_app(served, "canary")) as c:
        answers = [c.post("/predict", json={"records": [{"x": -1.0}]}) for _ in range(80)]
        routes = [a.json().get("route") for a in answers]
        assert _metric(c, "kiln_canary_rollbacks_total", route="flaky@production") == 1
        later = [c.post("/predict", json={"records": [{"x": -1.0}]}).json()["route"]
                 for _ in range(20)]
    assert "flaky@stable" in routes
    assert set(later) == {"flaky@stable"}
    history = served.deployment_history("canary")
    assert history[-1].action == "auto-rollback"
    assert {r.target: r.weight for r in history[-1].routes} == {"flaky@stable": 50,
                                                                "flaky@production": 0}
    assert "error rate" in history[-1].message


def test_hot_swap_follows_alias_and_deployment_changes(served: Workspace,
                                                       breast_cancer: Any) -> None:
    X, _ = breast_cancer
    app = create_app(served, "churn", ServerOptions(poll_seconds=3600))
    with TestClient(app) as c:
        served.set_weights("churn", {"bc@production": 0, "bc@challenger": 1})
        served.set_alias("bc", "challenger", 3)
        refresh = _runtime(app).refresh
        assert c.portal is not None
        assert c.portal.call(refresh) is True
        versions = {c.post("/predict", json={"records": records(X)}).json()["model_version"]
                    for _ in range(10)}
        assert versions == {3}
        assert c.portal.call(refresh) is False
        assert set(_runtime(app)._models) == {("bc", 1), ("bc", 3)}  # v2 was unloaded


def _runtime(app: Any) -> Any:
    return app.runtime


def test_feedback_is_stored(client: TestClient, served: Workspace, breast_cancer: Any) -> None:
    X, _ = breast_cancer
    ids = [client.post("/predict", json={"records": records(X.head(1))}
                       ).headers["x-request-id"] for _ in range(4)]
    assert client.post("/feedback", json={"request_id": ids[0], "label": 1}).json() == {
        "stored": 1}
    items = [{"request_id": rid, "label": i % 2, "weight": 2} for i, rid in enumerate(ids[1:])]
    assert client.post("/feedback", json={"items": items}).json() == {"stored": 3}
    bad = client.post("/feedback", json={"items": [{"label": 1}]})
    assert bad.status_code == 400 and "request_id" in bad.text
    frame = served.read_feedback("churn")
    assert sorted(frame["request_id"]) == sorted(ids)


def test_feedback_names_unknown_ids_and_bad_labels(client: TestClient, served: Workspace,
                                                   breast_cancer: Any) -> None:
    X, _ = breast_cancer
    rid = client.post("/predict", json={"records": records(X.head(1))}).headers["x-request-id"]
    unknown = client.post("/feedback", json={"items": [{"request_id": rid, "label": 1},
                                                       {"request_id": "nope", "label": 0}]})
    assert unknown.status_code == 404, unknown.text
    assert "'nope'" in unknown.json()["error"]["message"]
    wrong = client.post("/feedback", json={"request_id": rid, "label": {"a": 1}})
    assert wrong.status_code == 422 and "label" in wrong.json()["error"]["message"]
    assert len(served.read_feedback("churn")) == 0  # nothing stored from a refused batch
    # another process (here: a second app) finds an id it did not answer in the flushed log
    logger = client.app.runtime.logger  # type: ignore[attr-defined]
    assert logger is not None and logger.flush() >= 1
    with TestClient(create_app(served, "churn", ServerOptions())) as other:
        assert other.post("/feedback", json={"request_id": rid, "label": 1}).json() == {
            "stored": 1}
        assert other.post("/feedback", json={"request_id": "nope", "label": 1}
                          ).status_code == 404


def test_openapi_and_metrics(client: TestClient, breast_cancer: Any) -> None:
    X, _ = breast_cancer
    spec = client.get("/openapi.json").json()
    assert {"/predict", "/invocations", "/v2/models/{name}/infer", "/feedback"} <= set(
        spec["paths"])
    client.post("/predict", json={"records": records(X, 4)})
    text = client.get("/metrics").text
    for name in ("kiln_requests_total", "kiln_request_latency_seconds_bucket",
                 "kiln_batch_size_bucket", "kiln_queue_depth"):
        assert name in text
    assert client.get("/nope").status_code == 404
    assert client.get("/predict").status_code == 405
