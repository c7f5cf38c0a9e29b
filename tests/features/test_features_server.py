"""The HTTP app: Feast's request body, JSON answers, one-line 4xx errors; mountable."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
from features_data import stats_view
from starlette.applications import Starlette
from starlette.routing import Mount

with warnings.catch_warnings():  # Starlette nudges towards httpx2; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import kiln
from kiln.features.server import create_app
from kiln.workspace import Workspace


def test_lookup_over_http(fws: Workspace, stats: tuple[pd.DataFrame, Path]) -> None:
    kiln.features.apply([stats_view(stats[1], ttl=None)])
    kiln.features.materialize()
    expected = kiln.features.get_online_features({"driver_id": [1001, 5]},
                                                 ["driver_stats:f1", "driver_stats:trips"])
    client = TestClient(create_app(fws))
    r = client.post("/get-online-features", json={
        "features": ["driver_stats:f1", "driver_stats:trips"],
        "entities": {"driver_id": [1001, 5]}})
    assert r.status_code == 200
    body = r.json()
    assert body["entities"] == {"driver_id": [1001, 5]}
    assert body["features"] == expected.values
    assert body["age_seconds"]["f1"][0] > 0 and body["age_seconds"]["f1"][1] is None
    rows = client.post("/get-online-features", json={
        "features": ["driver_stats:f1"], "entity_rows": [{"driver_id": 1001}],
        "full_feature_names": True})
    assert rows.json()["features"] == {"driver_stats__f1": expected.values["f1"][:1]}
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/feature-views").json() == [
        {"name": "driver_stats", "version": 1, "features": ["f0", "f1", "trips"]}]


def test_errors_are_one_line_4xx(ws: Workspace, stats: tuple[pd.DataFrame, Path]) -> None:
    kiln.features.apply([stats_view(stats[1])])
    client = TestClient(create_app(ws))
    cases = [
        (b"not json", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"features": "x"}', 400, "'features'"),
        (b'{"features": ["nope:f0"], "entities": {"driver_id": [1]}}', 404, "'nope'"),
        (b'{"features": ["driver_stats:zz"], "entities": {"driver_id": [1]}}', 404, "'zz'"),
        (b'{"features": ["driver_stats:f0"], "entities": {"id": [1]}}', 400, "'driver_id'"),
        (b'{"features": ["f0"], "entities": {"driver_id": [1]}}', 400, "'view:feature'"),
    ]
    for body, status, fragment in cases:
        r = client.post("/get-online-features", content=body)
        assert r.status_code == status, body
        error = r.json()["error"]
        assert fragment in error and "\n" not in error


def test_mountable_in_another_app(ws: Workspace, stats: tuple[pd.DataFrame, Path]) -> None:
    kiln.features.apply([stats_view(stats[1])])
    outer = Starlette(routes=[Mount("/features", app=create_app(ws))])
    r = TestClient(outer).post("/features/get-online-features", json={
        "features": ["driver_stats:f0"], "entities": {"driver_id": [1001]}})
    assert r.status_code == 200 and r.json()["features"] == {"f0": [None]}  # not materialized
