"""Fuzzing the server with hypothesis: whatever the body, the answer is a JSON error or a
prediction, never an internal error, and the server keeps serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from kiln.serving.app import create_app
from kiln.serving.runtime import ServerOptions
from kiln.workspace import Workspace

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

COLUMNS = ["mean radius", "mean texture", "x"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True), st.text(max_size=5))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=4),
                                                 inner, max_size=4)), max_leaves=12)
tensor = st.fixed_dictionaries({
    "name": st.sampled_from(COLUMNS) | st.text(max_size=3),
    "shape": st.lists(st.integers(-1, 4), max_size=3),
    "datatype": st.sampled_from(["FP64", "INT64", "BYTES", "FP99"]),
    "data": st.lists(scalars, max_size=6),
})
bodies = st.one_of(
    values,
    st.fixed_dictionaries({"records": st.lists(st.dictionaries(st.sampled_from(COLUMNS), scalars),
                                               max_size=3) | values}),
    st.fixed_dictionaries({"columns": st.dictionaries(st.sampled_from(COLUMNS),
                                                      st.lists(scalars, max_size=3)) | values}),
    st.fixed_dictionaries({"inputs": st.lists(tensor, max_size=3) | values}),
    st.fixed_dictionaries({"dataframe_split": st.fixed_dictionaries(
        {"columns": st.lists(st.sampled_from(COLUMNS), max_size=3) | values,
         "data": st.lists(st.lists(scalars, max_size=3), max_size=3) | values})}),
    st.fixed_dictionaries({"instances": values}),
    st.fixed_dictionaries({"request_id": scalars, "label": values}),
)
PATHS = ["/predict", "/invocations", "/v2/models/churn/infer", "/feedback"]


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    import pandas as pd

    ws = Workspace(home=tmp_path_factory.mktemp("fuzz"))
    ws.log_model(None, lambda df: df["x"] * 2, "m", input_example=pd.DataFrame({"x": [1.0]}))
    ws.set_alias("m", "production", 1)
    ws.create_deployment("churn", ["m@production:1"], ["m/1"])
    with TestClient(create_app(ws, "churn", ServerOptions(max_body_bytes=20_000))) as client:
        yield client
    ws.close()


def _check(client: TestClient, path: str, content: bytes, ctype: str) -> None:
    r = client.post(path, content=content, headers={"content-type": ctype})
    assert r.status_code in (200, 400, 404, 413, 415, 422), (path, content[:200], r.text)
    body = r.json()
    if r.status_code != 200:
        assert set(body["error"]) >= {"type", "message"}
        assert body["error"]["type"] != "internal"


FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURE_OK)
@given(path=st.sampled_from(PATHS), body=bodies)
def test_json_bodies_never_break_the_server(fuzz_client: TestClient, path: str, body: Any
                                           ) -> None:
    _check(fuzz_client, path, json.dumps(body).encode(), "application/json")


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE_OK)
@given(path=st.sampled_from(PATHS), raw=st.binary(max_size=300),
       ctype=st.sampled_from(["application/json", "application/json; charset=utf-8",
                              "text/plain", ""]))
def test_raw_bytes_never_break_the_server(fuzz_client: TestClient, path: str, raw: bytes,
                                          ctype: str) -> None:
    _check(fuzz_client, path, raw, ctype)
    ok = fuzz_client.post("/predict", json={"records": [{"x": 1.5}]})
    assert ok.json()["predictions"] == [3.0]
