"""``kiln server`` (REST API + web UI) and ``kiln ui`` (the same, on loopback)."""

from __future__ import annotations

import os

import click


def _serve(host: str, port: int, workers: int, auth: bool) -> None:
    from kiln.exceptions import ConfigError
    from kiln.server.app import auth_required

    try:
        import uvicorn
    except ImportError:
        raise ConfigError("kiln server needs its extra: pip install 'kiln[server]'") from None
    if workers < 1:
        raise ConfigError(f"--workers {workers} is not accepted; use 1 or more")
    on = auth_required(host, auth)
    os.environ["KILN_SERVER_AUTH"] = "1" if on else "0"
    os.environ.pop("KILN_SERVER", None)  # the server itself talks to the database
    from kiln.metadata.sql import SqlMetadataStore
    from kiln.settings import Settings

    settings = Settings.load(server="")
    store = SqlMetadataStore(settings.db_url)  # migrate once, before the workers start
    if on and not store.list_users():
        click.echo("auth is on and there are no users yet: create one with\n"
                   "  kiln users create NAME --role admin && kiln tokens create NAME", err=True)
    store.close()
    click.echo(f"kiln server on http://{host}:{port}  (auth {'on' if on else 'off'}, "
               f"{workers} worker{'s' if workers > 1 else ''}, UI at /, API at /api/v1/docs)",
               err=True)
    uvicorn.run("kiln.server.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning", access_log=False)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@click.option("--auth/--no-auth", default=False,
              help="Require API tokens on loopback too (always on for other addresses).")
def server(host: str, port: int, workers: int, auth: bool) -> None:
    """Serve the REST API and the web UI over this project's stores."""
    _serve(host, port, workers, auth)


@click.command()
@click.option("--port", default=5000, show_default=True, type=int)
def ui(port: int) -> None:
    """Open the web UI on http://127.0.0.1:PORT (a loopback-only kiln server)."""
    _serve("127.0.0.1", port, 1, False)
