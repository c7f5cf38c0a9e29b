"""The server application: API routers and UI pages over one metadata and artifact store.

>>> # kiln server --host 127.0.0.1 --port 5000         (or create_app(...) in tests)
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from kiln import __version__

if TYPE_CHECKING:
    from fastapi import FastAPI

    from kiln.artifacts.base import ArtifactStore
    from kiln.metadata.sql import SqlMetadataStore
    from kiln.settings import Settings

API_PREFIX = "/api/v1"
#: One router per subsystem: name -> "module:attribute". A subsystem's API is one line
#: here (its module ``kiln/server/api/<area>.py`` holds an ``APIRouter``); routers are
#: imported on the first API request (see :func:`load_routers`).
API_ROUTERS = {
    "tracking": "kiln.server.api.tracking:router",
    "registry": "kiln.server.api.registry:router",
    "lineage": "kiln.server.api.lineage:router",
    "artifacts": "kiln.server.api.artifacts:router",
    "auth": "kiln.server.api.auth:router",
    "monitoring": "kiln.server.api.monitoring:router",
    "data": "kiln.server.api.data:router",
    "features": "kiln.server.api.features:router",
    "pipelines": "kiln.server.api.pipelines:router",
    "deployments": "kiln.server.api.deployments:router",
    "audit": "kiln.server.api.audit:router",
}
#: One page module per subsystem, mounted at ``/``.
UI_ROUTERS = {
    "home": "kiln.server.ui.home:router",
    "tracking": "kiln.server.ui.tracking:router",
    "registry": "kiln.server.ui.registry:router",
    "lineage": "kiln.server.ui.lineage:router",
    "monitoring": "kiln.server.ui.monitoring:router",
    "sweeps": "kiln.server.ui.sweeps:router",
    "serving": "kiln.server.ui.serving:router",
    "data": "kiln.server.ui.data:router",
    "pipelines": "kiln.server.ui.pipelines:router",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def create_app(store: SqlMetadataStore, artifacts: ArtifactStore, *, auth: bool = False,
               ui: bool = True, settings: Settings | None = None) -> FastAPI:
    """The ASGI app serving ``store`` and ``artifacts``; ``auth`` turns on API tokens.
    ``settings`` (default: ``KILN_*``) name the online store features are looked up in."""
    from fastapi import FastAPI

    from kiln.server import errors

    app = FastAPI(title="kiln", version=__version__, openapi_url=f"{API_PREFIX}/openapi.json",
                  docs_url=f"{API_PREFIX}/docs", redoc_url=None,
                  description="kiln's REST API over every subsystem.")
    app.state.store = store
    app.state.settings = settings if settings is not None else _settings(store.url)
    app.state.artifacts = artifacts
    app.state.auth = auth
    errors.install(app)
    app.state.routers_loaded = set()
    app.state.ui = ui
    if ui:
        from kiln.server.ui._common import mount_static

        mount_static(app)
    app.add_middleware(_LoadRoutersOnFirstUse)

    @app.get(HEALTH, tags=["server"], summary="Liveness")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    return app


HEALTH = f"{API_PREFIX}/health"


def load_routers(app: FastAPI, which: str = "all") -> None:
    """Include the API routers (``"api"``), the UI pages (``"ui"``) or both, once.

    Importing a router builds the pydantic models of its endpoints (a third of a
    second for all of them), so a server does it on the first request that needs
    them, not before it answers its first health check.
    """
    state: Any = app.state
    for part in ("api", "ui") if which == "all" else (which,):
        if part in state.routers_loaded or (part == "ui" and not state.ui):
            continue
        if part == "api":
            for target in API_ROUTERS.values():
                app.include_router(_load(target), prefix=API_PREFIX)
        else:
            for target in UI_ROUTERS.values():
                app.include_router(_load(target), include_in_schema=False)
        state.routers_loaded.add(part)


class _LoadRoutersOnFirstUse:
    """ASGI middleware: API routers on the first ``/api/v1`` request, pages on the first
    other one (the event loop is single-threaded, so each is included exactly once)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if path != HEALTH:
                load_routers(scope["app"], "api" if path.startswith(API_PREFIX) else "ui")
        await self.app(scope, receive, send)


def _settings(db_url: str) -> Settings:
    from kiln.settings import Settings

    return Settings.load(server="", db_url=db_url)


def app_from_env() -> FastAPI:
    """The app ``uvicorn`` workers build: settings from ``KILN_*`` and ``KILN_SERVER_AUTH``."""
    from kiln.artifacts import open_artifact_store
    from kiln.metadata.sql import SqlMetadataStore
    from kiln.settings import Settings

    settings = Settings.load(server="")
    store = SqlMetadataStore(settings.db_url)
    return create_app(store, open_artifact_store(settings.artifacts_url),
                      auth=os.environ.get("KILN_SERVER_AUTH") == "1", settings=settings)


def auth_required(host: str, flag: bool) -> bool:
    """Auth is on whenever the server listens beyond loopback, or when asked for."""
    return flag or host not in LOOPBACK
