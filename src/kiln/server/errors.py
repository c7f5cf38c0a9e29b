"""kiln errors as JSON: ``{"error": {"type": "NotFoundError", "message": "..."}}``."""

from __future__ import annotations

import logging
from typing import Any

from kiln import exceptions as exc

STATUS: list[tuple[type[exc.KilnError], int]] = [
    (exc.AuthenticationError, 401),
    (exc.PermissionDeniedError, 403),
    (exc.NotFoundError, 404),
    (exc.ConflictError, 409),
    (exc.ArtifactCorruptedError, 409),
    (exc.InvalidArgumentError, 400),
    (exc.ConfigError, 400),
    (exc.StoreUnavailableError, 503),
    (exc.KilnError, 400),
]
log = logging.getLogger("kiln.server")


def status_of(error: exc.KilnError) -> int:
    for cls, code in STATUS:
        if isinstance(error, cls):
            return code
    return 400  # pragma: no cover - KilnError is last


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def install(app: Any) -> None:
    """Register the handlers that turn every failure into a JSON error."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    async def kiln_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, exc.KilnError)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(
            error, exc.AuthenticationError) else None
        return JSONResponse(error_body(type(error).__name__, str(error)),
                            status_code=status_of(error), headers=headers)

    async def invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}"
        if "input" in first and first.get("type") != "missing":
            shown = repr(first["input"])
            message += f" (got {shown[:80]}{'...' if len(shown) > 80 else ''})"
        return JSONResponse(error_body("InvalidArgumentError", message), status_code=422)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        kind = "NotFoundError" if error.status_code == 404 else "KilnError"
        return JSONResponse(error_body(kind, str(error.detail)), status_code=error.status_code)

    async def out_of_range(request: Request, error: Exception) -> JSONResponse:
        # A number past what the database column holds (SQLite raises OverflowError).
        return JSONResponse(error_body("InvalidArgumentError",
                                       f"a number in the request is out of range: {error}; "
                                       "integers must fit in 64 bits"), status_code=400)

    async def crash(request: Request, error: Exception) -> JSONResponse:
        if type(error).__name__ == "IntegrityError" and type(error).__module__.startswith(
                "sqlalchemy"):
            # a reference to a missing row or a duplicate the request's checks let through
            cause = str(getattr(error, "orig", error)).splitlines()[0]
            return JSONResponse(error_body("ConflictError", "the request conflicts with what "
                                           f"is stored ({cause}); check the ids it names"),
                                status_code=409)
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("KilnError", "internal server error; see the server log"),
                            status_code=500)

    app.add_exception_handler(exc.KilnError, kiln_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(Exception, crash)
