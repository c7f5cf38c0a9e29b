"""The model server: a Starlette app serving one deployment.

Endpoints: Open Inference Protocol v2 (``/v2/health/live``, ``/v2/health/ready``,
``/v2/models/{name}``, ``/v2/models/{name}/infer``), ``POST /predict`` (records or
columns), MLflow's ``POST /invocations``, ``POST /feedback``, ``GET /metrics`` and
``GET /openapi.json``. Every error is a JSON body ``{"error": {...}}`` with the right
status, counted in the metrics; nothing a client sends can stop the process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from kiln._time import now_ms
from kiln.entities import Feedback
from kiln.exceptions import InvalidArgumentError, KilnError, NotFoundError
from kiln.serving.batching import ModelError, QueueFullError
from kiln.serving.inputs import (
    InputError,
    Payload,
    PayloadError,
    from_mlflow,
    from_predict,
    from_v2,
    is_label,
)
from kiln.serving.metrics import ServerMetrics
from kiln.serving.runtime import DeploymentRuntime, NotReadyError, ServerOptions, new_request_id

if TYPE_CHECKING:
    from kiln.workspace import Workspace

log = logging.getLogger("kiln.serving")
Handler = Callable[[Request], Awaitable[Response]]


class HttpError(KilnError):
    """An error with an HTTP status and a kind (the ``error.type`` of the JSON body)."""

    def __init__(self, status: int, kind: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.field, self.headers = status, kind, field, headers


def _dumps(content: Any) -> bytes:
    # NaN and infinity have no JSON literal: orjson writes them as null
    return orjson.dumps(content, default=_default, option=orjson.OPT_SERIALIZE_NUMPY)


def _default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    return str(value)


def _loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # NaN / Infinity literals (Python's json writes them): accepted here, so the
        # signature check can name the column that holds one
        return json.loads(raw)


class Json(JSONResponse):
    def render(self, content: Any) -> bytes:
        return _dumps(content)


#: How many answered request ids a server keeps in memory for feedback checks.
RECENT_IDS = 100_000


class RecentIds:
    """The last ``capacity`` request ids answered here, in a ring of 64-bit keys (from
    ``hash``) allocated up front: memory does not grow with traffic, a server holds as
    much after its millionth request as after its first. Adding is one store; a lookup
    (only ``/feedback`` asks) scans the ring, ~0.1 ms for 100,000 ids. Two ids sharing a
    key (odds about ``capacity / 2**63``) only make feedback skip the log check.

    >>> recent = RecentIds(2)
    >>> for rid in ("a", "b", "c"):
    ...     recent.add(rid)
    >>> "a" in recent, "b" in recent, "c" in recent
    (False, True, True)
    """

    _TOP = 1 << 63  # every key has the top bit set: 0 marks an empty slot

    def __init__(self, capacity: int = RECENT_IDS) -> None:
        import numpy as np

        if capacity < 1:
            raise ValueError(f"capacity {capacity} is not accepted; use 1 or more")
        self._ring = np.zeros(capacity, dtype=np.uint64)
        self._pos = 0

    def _key(self, request_id: str) -> int:
        return (hash(request_id) & (self._TOP - 1)) | self._TOP

    def add(self, request_id: str) -> None:
        self._ring[self._pos] = self._key(request_id)
        self._pos = (self._pos + 1) % len(self._ring)

    def __contains__(self, request_id: object) -> bool:
        return isinstance(request_id, str) and bool(
            (self._ring == self._key(request_id)).any())

    def unseen(self, request_ids: list[str]) -> list[str]:
        """The ids in ``request_ids`` not answered here recently (one pass for a batch)."""
        import numpy as np

        keys = np.array([self._key(rid) for rid in request_ids], dtype=np.uint64)
        seen = np.isin(keys, self._ring)
        return [rid for rid, hit in zip(request_ids, seen.tolist(), strict=True) if not hit]


class ServingApp:
    """Builds the Starlette app; ``runtime`` is the live routing and model state."""

    def __init__(self, ws: Workspace, deployment: str, options: ServerOptions | None = None,
                 *, close_workspace: bool = False) -> None:
        self.ws = ws
        self.deployment = deployment
        self.options = options or ServerOptions()
        self.metrics = ServerMetrics()
        from kiln.monitoring.metrics import register as register_monitor_gauges

        register_monitor_gauges(self.metrics.registry, ws, deployment)
        self.runtime = DeploymentRuntime(ws, deployment, self.options, self.metrics)
        self._close_ws = close_workspace
        # ids this process answered recently: feedback for them needs no log lookup
        self._recent_ids = RecentIds()
        ws.get_deployment(deployment)  # unknown deployment: fail before listening
        routes = [
            Route("/v2/health/live", self.live, methods=["GET"]),
            Route("/v2/health/ready", self.ready, methods=["GET"]),
            Route("/v2", self.server_meta, methods=["GET"]),
            Route("/v2/models/{name}", self._guard(self.model_meta), methods=["GET"]),
            Route("/v2/models/{name}/ready", self._guard(self.model_ready), methods=["GET"]),
            Route("/v2/models/{name}/infer", self._guard(self.infer_v2), methods=["POST"]),
            Route("/predict", self._guard(self.predict), methods=["POST"]),
            Route("/invocations", self._guard(self.invocations), methods=["POST"]),
            Route("/feedback", self._guard(self.feedback), methods=["POST"]),
            Route("/metrics", self.prometheus, methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
            Route("/ping", self.live, methods=["GET"]),
            Route("/health", self.ready, methods=["GET"]),
        ]
        self.app = Starlette(routes=routes, lifespan=self._lifespan,
                             exception_handlers={404: self._not_found, 405: self._not_allowed})
        # the prediction endpoints skip Starlette's middleware and route matching: per
        # request, that was a quarter of the server's own time (the handlers are guarded)
        self._fast = {"/predict": self._guard(self.predict),
                      "/invocations": self._guard(self.invocations)}
        self._fast_v2 = self._guard(self.infer_v2)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app (``uvicorn.run(ServingApp(ws, "churn"))``)."""
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            handler = self._fast.get(path)
            if handler is None and path.startswith("/v2/models/") and path.endswith("/infer"):
                name = path[len("/v2/models/"):-len("/infer")]
                if name and "/" not in name:
                    scope["path_params"] = {"name": name}
                    handler = self._fast_v2
            if handler is not None:
                response = await handler(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        await self.runtime.start()
        try:
            yield
        finally:
            await self.runtime.stop()
            if self._close_ws:
                self.ws.close()

    # -- plumbing -----------------------------------------------------------------------
    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            self.runtime.inflight += 1
            try:
                return await handler(request)
            except HttpError as exc:
                return self._error(exc, request)
            except InputError as exc:
                return self._error(HttpError(422, "invalid_input", str(exc), exc.field), request)
            except PayloadError as exc:
                return self._error(HttpError(400, "bad_request", str(exc)), request)
            except QueueFullError as exc:
                return self._error(HttpError(503, "overloaded", str(exc),
                                             headers={"Retry-After": "1"}), request)
            except NotReadyError as exc:
                return self._error(HttpError(503, "not_ready", str(exc),
                                             headers={"Retry-After": "1"}), request)
            except ModelError as exc:
                return self._error(HttpError(500, "model_error", str(exc)), request)
            except NotFoundError as exc:
                return self._error(HttpError(404, "not_found", str(exc)), request)
            except InvalidArgumentError as exc:
                return self._error(HttpError(400, "bad_request", str(exc)), request)
            except Exception as exc:  # a bug must not take the server down
                log.exception("unexpected error on %s", request.url.path)
                return self._error(HttpError(500, "internal", f"{type(exc).__name__}: {exc}"),
                                   request)
            finally:
                self.runtime.inflight -= 1

        return guarded

    def _error(self, exc: HttpError, request: Request) -> Response:
        self.metrics.error(self.deployment, exc.kind, exc.status)
        body: dict[str, Any] = {"type": exc.kind, "message": str(exc)}
        if exc.field is not None:
            body["field"] = exc.field
        headers = dict(exc.headers or {})
        rid = request.headers.get("x-request-id")
        if rid:
            headers["x-request-id"] = rid
        return Json({"error": body}, status_code=exc.status, headers=headers)

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        return self._error(HttpError(404, "not_found", f"no endpoint {request.url.path}; see "
                                     "/openapi.json"), request)

    async def _not_allowed(self, request: Request, exc: Exception) -> Response:
        return self._error(HttpError(405, "method_not_allowed",
                                     f"{request.method} is not allowed on {request.url.path}"),
                           request)

    async def _json(self, request: Request) -> Any:
        ctype = request.headers.get("content-type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise HttpError(415, "unsupported_media_type",
                            f"content type {ctype or 'none'!r} is not accepted; send "
                            "application/json")
        limit = self.options.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HttpError(413, "too_large", f"the body has {declared} bytes; the limit is "
                            f"{limit} (kiln serve --max-body-mb)")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HttpError(413, "too_large", f"the body exceeds the limit of {limit} bytes "
                                "(kiln serve --max-body-mb)")
            chunks.append(chunk)
        raw = b"".join(chunks)
        request.state.body = raw
        try:
            return _loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None

    def _check_name(self, name: str) -> None:
        if name != self.deployment:
            raise HttpError(404, "unknown_deployment",
                            f"deployment {name!r} is not served here; served: "
                            f"{self.deployment!r}")

    async def _run(self, request: Request, payload: Payload) -> tuple[Any, Any, str, int]:
        rid = request.headers.get("x-request-id") or new_request_id()
        payload = dataclasses.replace(payload, body=request.state.body)
        active, outputs, _ = await self.runtime.infer(payload, request.headers, rid)
        self._recent_ids.add(rid[:64])
        return active, outputs, rid, active.served.version

    # -- endpoints ----------------------------------------------------------------------
    async def live(self, request: Request) -> Response:
        return Json({"live": True})

    async def ready(self, request: Request) -> Response:
        ready = self.runtime.table is not None
        return Json({"ready": ready}, status_code=200 if ready else 503)

    async def server_meta(self, request: Request) -> Response:
        from kiln import __version__

        return Json({"name": "kiln", "version": __version__, "extensions": []})

    async def model_meta(self, request: Request) -> Response:
        self._check_name(request.path_params["name"])
        table = self.runtime.table
        if table is None:
            raise NotReadyError("the server is still loading its models; retry shortly")
        sig = table.routes[0].served.signature
        inputs = [{"name": c["name"], "datatype": _v2_type(c.get("type", "")), "shape": [-1]}
                  for c in (sig.inputs if sig else []) if "name" in c]
        return Json({
            "name": self.deployment,
            "versions": [str(table.deployment.version)],
            "platform": "kiln",
            "inputs": inputs,
            "outputs": [{"name": "predict", "datatype": "FP64", "shape": [-1]}],
            "routes": [{"route": r.target, "weight": r.route.weight,
                        "model_version": r.served.version,
                        "runtime": r.served.model.flavor} for r in table.routes],
            "shadows": [{"route": r.target, "model_version": r.served.version}
                        for r in table.shadows],
        })

    async def model_ready(self, request: Request) -> Response:
        self._check_name(request.path_params["name"])
        ready = self.runtime.table is not None
        return Json({"name": self.deployment, "ready": ready}, status_code=200 if ready else 503)

    async def infer_v2(self, request: Request) -> Response:
        self._check_name(request.path_params["name"])
        body = await self._json(request)
        active, outputs, rid, version = await self._run(request, from_v2(body))
        req_id = body.get("id") if isinstance(body, dict) else None
        return Json({
            "model_name": self.deployment,
            "model_version": str(version),
            "id": req_id if isinstance(req_id, str) else rid,
            "parameters": {"route": active.target, "request_id": rid},
            "outputs": [{"name": "predict", "datatype": _dtype(outputs),
                         "shape": list(outputs.shape), "data": outputs.ravel().tolist()}],
        }, headers={"x-request-id": rid})

    async def predict(self, request: Request) -> Response:
        body = await self._json(request)
        active, outputs, rid, version = await self._run(request, from_predict(body))
        return Json({"predictions": outputs.tolist(), "model_version": version,
                     "route": active.target, "request_id": rid},
                    headers={"x-request-id": rid})

    async def invocations(self, request: Request) -> Response:
        body = await self._json(request)
        active, outputs, rid, version = await self._run(request, from_mlflow(body))
        return Json({"predictions": outputs.tolist()},
                    headers={"x-request-id": rid, "x-kiln-route": active.target,
                             "x-kiln-model-version": str(version)})

    async def feedback(self, request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        body = await self._json(request)
        items = body.get("items", [body]) if isinstance(body, dict) else body
        if not isinstance(items, list) or not items:
            raise PayloadError('send {"request_id": ..., "label": ...} or '
                               '{"items": [{"request_id": ..., "label": ...}, ...]}')
        ts = now_ms()
        records = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("request_id"), str) \
                    or "label" not in item:
                raise PayloadError(f"feedback item {i} needs a string request_id and a label")
            label = item["label"]
            if not all(is_label(v) for v in (label if isinstance(label, list) else [label])):
                raise InputError(
                    f"feedback item {i}: label {label!r} is a {type(label).__name__}; "
                    "accepted: a number, string or boolean (a list of them for a request of "
                    "several rows)", field="label")
            extra = {k: v for k, v in item.items() if k not in ("request_id", "label")}
            records.append(Feedback(item["request_id"][:64], self.deployment, label, ts, extra))
        unseen = self._recent_ids.unseen([r.request_id for r in records])
        if unseen:
            missing = await run_in_threadpool(self._not_in_log, unseen)
            if missing:
                raise HttpError(
                    404, "unknown_request_id",
                    f"feedback for request id {missing[0]!r}: no such request in the prediction "
                    f"log of deployment {self.deployment!r}"
                    + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                    + "; the id is the x-request-id header of the answer (a request another "
                    "worker answered is found once its log is flushed: retry in a few seconds)",
                    field="request_id")
        await run_in_threadpool(self.ws.store.add_feedback, records)
        return Json({"stored": len(records)})

    def _not_in_log(self, request_ids: list[str]) -> list[str]:
        """The ids in ``request_ids`` this deployment's prediction log does not hold."""
        from kiln.serving.predlog import logged_ids

        wanted = dict.fromkeys(request_ids)
        known = logged_ids(self.ws.store, self.ws.artifacts, self.deployment, set(wanted))
        return [rid for rid in wanted if rid not in known]

    async def prometheus(self, request: Request) -> Response:
        data, ctype = self.metrics.render()
        return Response(data, media_type=ctype)

    async def openapi(self, request: Request) -> Response:
        from kiln.serving.openapi import openapi_spec

        return Json(openapi_spec(self.deployment))


def _dtype(outputs: Any) -> str:
    kind = getattr(getattr(outputs, "dtype", None), "kind", "O")
    return {"b": "BOOL", "i": "INT64", "u": "UINT64", "f": "FP64"}.get(kind, "BYTES")


def _v2_type(sig_type: str) -> str:
    return {"double": "FP64", "float": "FP32", "long": "INT64", "integer": "INT32",
            "boolean": "BOOL"}.get(sig_type, "BYTES")


def create_app(ws: Workspace, deployment: str, options: ServerOptions | None = None
               ) -> ServingApp:
    """The ASGI app serving ``deployment`` from ``ws``.

    >>> # uvicorn.run(create_app(ws, "churn"), port=8080)
    """
    return ServingApp(ws, deployment, options)


ENV_DEPLOYMENT = "KILN_SERVE_DEPLOYMENT"
ENV_OPTIONS = "KILN_SERVE_OPTIONS"


def app_from_env() -> ServingApp:
    """Factory for ``uvicorn --factory`` (one call per worker process): the deployment and
    options come from ``KILN_SERVE_DEPLOYMENT`` and ``KILN_SERVE_OPTIONS`` (JSON)."""
    from kiln.workspace import Workspace

    options = ServerOptions(**json.loads(os.environ.get(ENV_OPTIONS, "{}")))
    return ServingApp(Workspace(), os.environ[ENV_DEPLOYMENT], options,
                      close_workspace=True)
