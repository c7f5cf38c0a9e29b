"""Online features over HTTP: a small ASGI app (Starlette), mountable in another server.

``POST /get-online-features`` takes Feast's body, so Feast clients keep working::

    {"features": ["driver_stats:f0"], "entities": {"driver_id": [1001, 1002]}}

(``"entity_rows": [{"driver_id": 1001}]`` is accepted too) and answers
``{"entities": ..., "features": {"f0": [...]}, "age_seconds": {"f0": [...]}}``.
Errors are a 4xx with ``{"error": "<one line>"}``.

>>> # from kiln.features.server import create_app
>>> # model_server.mount("/features", create_app(workspace))
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kiln.exceptions import KilnError, NotFoundError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from kiln.workspace import Workspace

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

ONLINE_PATH = "/get-online-features"
_JSON_HEADERS = [(b"content-type", b"application/json")]


def lookup_response(ws: Workspace, raw: bytes) -> tuple[int, bytes]:
    """Status and JSON body answering one lookup request body (errors as one line)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return _error(400, "request body is not JSON; send {\"features\": [...], "
                           "\"entities\": {key: [values]}}")
    if not isinstance(body, dict):
        return _error(400, "request body must be a JSON object with 'features' and "
                           "'entities' (or 'entity_rows')")
    features = body.get("features")
    entities = body.get("entities", body.get("entity_rows"))
    if not isinstance(features, list) or not isinstance(entities, dict | list):
        return _error(400, "request needs 'features' (a list of 'view:feature') and "
                           "'entities' ({key: [values]}) or 'entity_rows'")
    try:
        result = ws.get_online_features(entities, features, full_feature_names=bool(
            body.get("full_feature_names", False)))
    except NotFoundError as exc:
        return _error(404, str(exc))
    except KilnError as exc:
        return _error(400, str(exc))
    return 200, result.to_json_bytes()


def _error(status: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": message}).encode()


class FeatureServer:
    """The ASGI app: lookups are answered directly (the hot path, no framework layers in
    between); every other route goes to a small Starlette app."""

    def __init__(self, workspace: Workspace, fallback: Starlette) -> None:
        self.workspace = workspace
        self.starlette = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root):]
            if path == ONLINE_PATH:
                chunks = []
                more = True
                while more:
                    message = await receive()
                    chunks.append(message.get("body", b""))
                    more = message.get("more_body", False)
                # The lookup is a few hundred microseconds of local I/O: running it inline
                # is cheaper than a hop to the thread pool.
                status, payload = lookup_response(self.workspace, b"".join(chunks))
                await send({"type": "http.response.start", "status": status,
                            "headers": [*_JSON_HEADERS,
                                        (b"content-length", str(len(payload)).encode())]})
                await send({"type": "http.response.body", "body": payload})
                return
        await self.starlette(scope, receive, send)


def create_app(workspace: Workspace | None = None) -> FeatureServer:
    """An ASGI app serving ``workspace``'s online features (default: from settings)."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    if workspace is None:
        from kiln.workspace import Workspace

        workspace = Workspace()
    ws = workspace

    def reply(status: int, data: Any) -> Response:
        return Response(json.dumps(data, separators=(",", ":")), status,
                        media_type="application/json")

    async def online(request: Request) -> Response:
        status, payload = lookup_response(ws, await request.body())
        return Response(payload, status, media_type="application/json")

    async def health(request: Request) -> Response:
        return reply(200, {"status": "ok"})

    async def views(request: Request) -> Response:
        return reply(200, [{"name": d.name, "version": d.version,
                            "features": [f["name"] for f in d.spec["features"]]}
                           for d in ws.list_feature_views()])

    fallback = Starlette(routes=[
        Route(ONLINE_PATH, online, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/feature-views", views, methods=["GET"]),
    ])
    return FeatureServer(ws, fallback)


def app_from_settings() -> FeatureServer:
    """Factory for ``uvicorn --factory``: each worker opens the workspace from settings."""
    return create_app()


def serve(host: str, port: int, workers: int = 1) -> None:
    """Run the app with uvicorn (``kiln features serve``)."""
    import uvicorn

    options: dict[str, Any] = {"host": host, "port": port, "access_log": False,
                               "log_level": "warning"}
    from importlib.util import find_spec

    if find_spec("httptools") is not None:
        options["http"] = "httptools"
    if workers > 1:
        uvicorn.run("kiln.features.server:app_from_settings", factory=True, workers=workers,
                    **options)
    else:
        uvicorn.run(create_app(), **options)
