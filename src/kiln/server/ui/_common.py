"""What every page shares: templates, static files (plotly.min.js from the plotly
package, served locally), login by token cookie, number and time formatting."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kiln.exceptions import AuthenticationError, KilnError
from kiln.server.security import Principal, authenticate

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.templating import Jinja2Templates

    from kiln.metadata.sql import SqlMetadataStore

HERE = Path(__file__).parent.parent
_templates: Jinja2Templates | None = None


def fmt_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def fmt_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def templates() -> Jinja2Templates:
    global _templates
    if _templates is None:
        from starlette.templating import Jinja2Templates

        _templates = Jinja2Templates(directory=str(HERE / "templates"))
        _templates.env.filters["time"] = fmt_time
        _templates.env.filters["num"] = fmt_value
    return _templates


def render(request: Request, name: str, **context: Any) -> HTMLResponse:
    response: HTMLResponse = templates().TemplateResponse(request, name, context)
    return response


def store(request: Request) -> SqlMetadataStore:
    s: SqlMetadataStore = request.app.state.store
    return s


class LoginRequired(Exception):
    """A page was asked for without a valid token: send the browser to /login."""


def user(request: Request) -> Principal:
    """FastAPI dependency of pages: the caller, or a redirect to the login page."""
    try:
        return authenticate(request)
    except AuthenticationError:
        raise LoginRequired() from None


def mount_static(app: FastAPI) -> None:
    """Serve ``/static`` (kiln's CSS and JS) and ``/static/plotly.min.js``; turn page errors
    into HTML."""
    from starlette.staticfiles import StaticFiles

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        import plotly
        from starlette.responses import FileResponse

        path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        return FileResponse(path, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    async def to_login(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/login", status_code=303)

    app.add_exception_handler(LoginRequired, to_login)


def page_error(request: Request, error: KilnError) -> HTMLResponse:
    from kiln.server.errors import status_of

    response = render(request, "error.html", message=str(error))
    response.status_code = status_of(error)
    return response
