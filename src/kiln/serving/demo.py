"""The serving stage of ``kiln demo``: an A/B split with a shadow, real HTTP traffic on a
loopback port, where each request went, and the proof that every one is in the log."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from kiln.workspace import Workspace

DEPLOYMENT = "breast-cancer"


@dataclass
class ServingDemoResult:
    """What the serving stage did, for the summary and for tests."""

    requests: int = 0
    by_route: dict[str, int] = field(default_factory=dict)
    shadow_calls: int = 0
    logged: int = 0
    missing_from_log: int = 0
    accuracy: float = 0.0


def run_serving_demo(ws: Workspace, console: Console, model_name: str, experiment: str,
                     X_test: Any, y_test: Any, requests: int = 200) -> ServingDemoResult:
    """Register the runners-up, deploy production 90 / challenger 10 with a shadow, serve
    ``requests`` single-row requests over HTTP, then read the prediction log back."""
    import uvicorn

    from kiln.serving.app import ServingApp
    from kiln.serving.runtime import ServerOptions

    ranked = ws.search_run_objects(experiment, order_by=["metrics.auc DESC",
                                                         "metrics.log_loss ASC"], max_results=3)
    challenger = ws.register_model(f"runs:/{ranked[1].run_id}/model", model_name,
                                   description=f"challenger: {ranked[1].name}")
    shadow = ws.register_model(f"runs:/{ranked[2].run_id}/model", model_name,
                               description=f"shadow candidate: {ranked[2].name}")
    dep = ws.create_deployment(
        DEPLOYMENT,
        [f"{model_name}@production:90", f"{model_name}/{challenger.version}:10"],
        [f"{model_name}/{shadow.version}"],
        sticky_key="header:x-patient-id",
        message="demo A/B test",
    )
    console.print(
        f"[bold]7. Deployment[/]: {DEPLOYMENT} v{dep.version}: "
        + ", ".join(f"{r.target} {r.weight:g}%" for r in dep.routes)
        + f"; shadow {dep.shadows[0].target} (sticky on header x-patient-id)"
    )
    app = ServingApp(ws, DEPLOYMENT, ServerOptions(log_flush_seconds=0.5))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                           access_log=False))
    thread = threading.Thread(target=server.run, name="kiln-demo-server", daemon=True)
    thread.start()
    result = ServingDemoResult()
    ids: list[str] = []
    correct = 0
    try:
        conn = _wait_ready(port, server)
        rows = X_test.to_dict(orient="records")
        truth = list(y_test)
        for i in range(requests):
            body = json.dumps({"records": [rows[i % len(rows)]]})
            conn.request("POST", "/predict", body, {"content-type": "application/json",
                                                    "x-patient-id": f"p{i % 50}"})
            resp = conn.getresponse()
            answer = json.loads(resp.read())
            if resp.status != 200:
                raise RuntimeError(f"the demo server answered {resp.status}: {answer}")
            ids.append(answer["request_id"])
            result.by_route[answer["route"]] = result.by_route.get(answer["route"], 0) + 1
            correct += int(answer["predictions"][0] == truth[i % len(truth)])
            conn.request("POST", "/feedback", json.dumps(
                {"request_id": answer["request_id"], "label": int(truth[i % len(truth)])}),
                {"content-type": "application/json"})
            conn.getresponse().read()
        conn.close()
    finally:
        server.should_exit = True  # graceful: the prediction log is flushed on shutdown
        thread.join(timeout=60)
    result.requests = requests
    result.accuracy = correct / requests
    log = ws.read_prediction_log(DEPLOYMENT)
    primary = log[~log["shadow"]]
    result.logged = len(primary)
    result.shadow_calls = int(log["shadow"].sum())
    result.missing_from_log = len(set(ids) - set(primary["request_id"]))
    versions = primary.groupby("route")["model_version"].first().to_dict()
    split = ", ".join(f"{route} (v{versions.get(route, '?')}) {n}"
                      for route, n in sorted(result.by_route.items(), key=lambda kv: -kv[1]))
    console.print(
        f"[bold]8. Traffic[/]: {requests} HTTP requests -> {split}; shadow "
        f"{dep.shadows[0].target} got {result.shadow_calls} copies (never returned); "
        f"accuracy {result.accuracy:.3f} with feedback stored for every request"
    )
    status = "every request is" if result.missing_from_log == 0 else \
        f"{result.missing_from_log} requests are NOT"
    console.print(
        f"[bold]9. Prediction log[/]: {result.logged} rows for {requests} requests "
        f"(+{result.shadow_calls} shadow rows) in Parquet batches: {status} in the log"
    )
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_ready(port: int, server: Any) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/v2/health/ready")
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                return conn
            conn.close()
        except OSError:
            pass
        if getattr(server, "started", False) is False:
            time.sleep(0.05)
        else:
            time.sleep(0.02)
    raise RuntimeError("the demo server did not start within 60 s")
