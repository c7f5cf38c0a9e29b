"""The REST API as a client sees it: OpenAPI, JSON errors, paging and filtering of lists,
and a hypothesis fuzz of the endpoints (never a 5xx, always a JSON error)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiln.entities import Metric

if TYPE_CHECKING:
    from conftest import LiveServer


def test_openapi_lists_every_area(live: LiveServer) -> None:
    spec = httpx.get(f"{live.url}/api/v1/openapi.json").json()
    tags = {t for path in spec["paths"].values() for op in path.values() for t in op["tags"]}
    assert {"tracking", "registry", "lineage", "artifacts", "auth"} <= tags
    assert "/api/v1/runs" in spec["paths"] and "/api/v1/models/{name}/versions" in spec["paths"]


def test_lists_page_and_filter(live: LiveServer) -> None:
    s = live.store
    for name in ("churn-a", "churn-b", "fraud"):
        exp = s.get_or_create_experiment(name)
        for i in range(3):
            rid = s.create_run(exp.experiment_id, f"{name}-{i}", "u", i, {}).run_id
            s.log_batch(rid, [Metric("auc", i / 10, 0, 1)])
    api = f"{live.url}/api/v1"
    body = httpx.get(f"{api}/experiments", params={"limit": 2}).json()
    assert [e["name"] for e in body["items"]] == ["churn-a", "churn-b"]
    assert body["next_offset"] == 2
    body = httpx.get(f"{api}/experiments", params={"offset": 2}).json()
    assert [e["name"] for e in body["items"]] == ["fraud"] and body["next_offset"] is None
    body = httpx.get(f"{api}/experiments", params={"name_like": "churn*"}).json()
    assert len(body["items"]) == 2
    body = httpx.get(f"{api}/runs", params={"experiment": "fraud", "filter": "metrics.auc > 0",
                                            "order_by": "metrics.auc DESC", "limit": 1}).json()
    assert [r["name"] for r in body["items"]] == ["fraud-2"] and body["next_offset"] == 1
    body = httpx.get(f"{api}/runs", params={"experiment": "fraud", "filter": "metrics.auc > 0",
                                            "order_by": "metrics.auc DESC", "offset": 1}).json()
    assert [r["name"] for r in body["items"]] == ["fraud-1"] and body["next_offset"] is None


def test_errors_are_json_and_name_the_bad_value(live: LiveServer) -> None:
    api = f"{live.url}/api/v1"
    r = httpx.get(f"{api}/runs/nope")
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "NotFoundError" and "'nope'" in r.json()["error"]["message"]
    r = httpx.get(f"{api}/runs", params={"filter": "metrics.auc >"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "FilterSyntaxError"
    r = httpx.get(f"{api}/experiments", params={"limit": 0})
    assert r.status_code == 422 and r.json()["error"]["type"] == "InvalidArgumentError"
    r = httpx.post(f"{api}/runs", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "error" in r.json()
    r = httpx.get(f"{api}/artifacts/xyz")
    assert r.status_code == 400 and "'xyz'" in r.json()["error"]["message"]


text = st.text(max_size=30)
scalars = (st.none() | st.booleans() | st.integers()
           | st.floats(allow_nan=False, allow_infinity=False) | text)
json_values = st.recursive(
    scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(text, c, max_size=3),
    max_leaves=8)
ENDPOINTS = [
    ("POST", "/experiments"), ("POST", "/runs"), ("POST", "/runs/search"), ("POST", "/metrics"),
    ("POST", "/runs/x/batch"), ("POST", "/runs/x/end"), ("POST", "/runs/x/artifacts"),
    ("POST", "/models/m/versions"), ("PUT", "/models/m/aliases/a"), ("POST", "/lineage/edges"),
]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), body=json_values,
       path_arg=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
       query=st.dictionaries(st.sampled_from(["limit", "offset", "filter", "order_by", "kind",
                                              "id", "direction", "alias", "name_like"]),
                             text, max_size=3))
def test_fuzzed_requests_never_crash_the_server(live: LiveServer, endpoint: tuple[str, str],
                                                body: object, path_arg: str,
                                                query: dict[str, str]) -> None:
    method, path = endpoint
    with httpx.Client(base_url=f"{live.url}/api/v1") as client:
        r = client.request(method, path, json=body)
        assert r.status_code < 500, (method, path, body, r.text)
        if r.status_code >= 400:
            assert set(r.json()["error"]) == {"type", "message"}
        for get in ("/experiments", "/runs", "/models", "/lineage/edges", "/lineage/walk",
                    "/models/m/alias-history"):
            r = client.get(get, params=query)
            assert r.status_code < 500, (get, query, r.text)
        from urllib.parse import quote

        r = client.get(f"/runs/{quote(path_arg, safe='')}")
        assert r.status_code < 500 and (r.status_code != 200 or r.json()["run_id"])
        r = client.get(f"/models/{quote(path_arg, safe='')}/versions/1")
        assert r.status_code < 500
