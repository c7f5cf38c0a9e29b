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
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from kiln.workspace import Workspace


def create_app(workspace: Workspace | None = None) -> Starlette:
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
        try:
            body = json.loads(await request.body())
        except ValueError:
            return reply(400, {"error": "request body is not JSON; send {\"features\": [...], "
                                        "\"entities\": {key: [values]}}"})
        if not isinstance(body, dict):
            return reply(400, {"error": "request body must be a JSON object with 'features' "
                                        "and 'entities' (or 'entity_rows')"})
        features = body.get("features")
        entities = body.get("entities", body.get("entity_rows"))
        if not isinstance(features, list) or not isinstance(entities, dict | list):
            return reply(400, {"error": "request needs 'features' (a list of 'view:feature') "
                                        "and 'entities' ({key: [values]}) or 'entity_rows'"})
        try:
            # The lookup is a few hundred microseconds of local I/O: running it inline is
            # cheaper than a hop to the thread pool.
            result = ws.get_online_features(entities, features,
                                            full_feature_names=bool(body.get(
                                                "full_feature_names", False)))
        except NotFoundError as exc:
            return reply(404, {"error": str(exc)})
        except KilnError as exc:
            return reply(400, {"error": str(exc)})
        return reply(200, result.to_json())

    async def health(request: Request) -> Response:
        return reply(200, {"status": "ok"})

    async def views(request: Request) -> Response:
        return reply(200, [{"name": d.name, "version": d.version,
                            "features": [f["name"] for f in d.spec["features"]]}
                           for d in ws.list_feature_views()])

    return Starlette(routes=[
        Route("/get-online-features", online, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/feature-views", views, methods=["GET"]),
    ])


def app_from_settings() -> Starlette:
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
