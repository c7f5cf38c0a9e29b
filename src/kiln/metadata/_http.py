"""The HTTP session the REST metadata store and the HTTP artifact store share.

A server's JSON error ``{"error": {"type": "NotFoundError", "message": ...}}`` is
raised again here as the same :mod:`kiln.exceptions` class, so code behaves the
same over HTTP as on a local database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiln import exceptions
from kiln.exceptions import ConfigError, KilnError, StoreUnavailableError

if TYPE_CHECKING:
    import httpx

API = "/api/v1"


def new_client(url: str, token: str | None, timeout: float = 60.0) -> httpx.Client:
    """An ``httpx.Client`` for the server at ``url`` sending ``token`` as a bearer token."""
    try:
        import httpx
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ConfigError(
            f"talking to the kiln server at {url!r} needs httpx: pip install 'kiln[server]'"
        ) from None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout,
                        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16))


def raise_for_error(response: httpx.Response, url: str) -> None:
    """Raise the kiln exception a failed response carries."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
        err = body["error"]
        kind, message = str(err["type"]), str(err["message"])
    except Exception:
        text = response.text.strip().splitlines()[0] if response.text.strip() else ""
        raise KilnError(
            f"kiln server at {url} answered HTTP {response.status_code}: {text[:200]}"
        ) from None
    cls = getattr(exceptions, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, KilnError)):
        cls = KilnError
    raise cls(message)


def unreachable(url: str, exc: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(f"cannot reach the kiln server at {url}: "
                                 f"{type(exc).__name__}: {exc}")


def call(client: httpx.Client, url: str, method: str, path: str, **kwargs: Any) -> Any:
    """Send one request to ``API + path`` and return its decoded JSON (``None`` if empty)."""
    import httpx

    try:
        response = client.request(method, API + path, **kwargs)
    except httpx.TransportError as exc:
        raise unreachable(url, exc) from None
    raise_for_error(response, url)
    if not response.content:
        return None
    return response.json()
