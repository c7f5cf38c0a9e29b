"""``kiln serve``: the model server for one deployment (uvicorn, N worker processes)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile

import click


@click.command("serve")
@click.argument("deployment")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--workers", type=int, default=1, show_default=True)
@click.option("--max-batch-size", type=int, default=32, show_default=True)
@click.option("--max-wait-ms", type=float, default=2.0, show_default=True)
@click.option("--max-queue", type=int, default=4096, show_default=True,
              help="Rows waiting per model before answering 503.")
@click.option("--max-body-mb", type=float, default=32.0, show_default=True)
@click.option("--allow-nan", is_flag=True, help="Accept null/NaN input values.")
@click.option("--poll-seconds", type=float, default=2.0, show_default=True,
              help="How often to check for moved aliases and deployment changes.")
@click.option("--no-log", is_flag=True, help="Do not write the prediction log.")
@click.option("--access-log", is_flag=True, help="Print one line per request.")
def serve(deployment: str, host: str, port: int, workers: int, max_batch_size: int,
          max_wait_ms: float, max_queue: int, max_body_mb: float, allow_nan: bool,
          poll_seconds: float, no_log: bool, access_log: bool) -> None:
    """Serve DEPLOYMENT over HTTP (v2 inference protocol, /predict, /invocations, /metrics)."""
    # A server runs for weeks: Arrow buffers of the prediction log go back to the OS when
    # freed (the system allocator) instead of being held by jemalloc's decay, which made
    # memory swing by ~30 MB between log flushes (docs/benchmarks-serving.md).
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    import uvicorn

    from kiln.exceptions import InvalidArgumentError
    from kiln.serving.app import ENV_DEPLOYMENT, ENV_OPTIONS, ServingApp
    from kiln.serving.runtime import ServerOptions

    if workers < 1:
        raise InvalidArgumentError(f"--workers {workers} is not accepted; use 1 or more")
    options = ServerOptions(
        max_batch_size=max_batch_size, max_wait_ms=max_wait_ms, max_queue=max_queue,
        max_body_bytes=int(max_body_mb * 1024 * 1024), allow_nan=allow_nan,
        poll_seconds=poll_seconds, log_predictions=not no_log,
    )
    from kiln.cli._ws import workspace

    ws = workspace()
    ws.get_deployment(deployment)  # fail with one line before starting workers
    common = {"host": host, "port": port, "access_log": access_log, "log_level": "warning",
              "timeout_graceful_shutdown": 30}
    click.echo(f"serving deployment {deployment} on http://{host}:{port} "
               f"({workers} worker{'s' if workers > 1 else ''})", err=True)
    if workers == 1:
        uvicorn.run(ServingApp(ws, deployment, options), **common)  # type: ignore[arg-type]
        return
    os.environ[ENV_DEPLOYMENT] = deployment
    os.environ[ENV_OPTIONS] = json.dumps(dataclasses.asdict(options))
    # the workers count into shared files so /metrics on any of them shows the totals
    from kiln.serving.metrics import MULTIPROC_ENV, multiprocess_dir

    own_dir = None
    if multiprocess_dir() is None:
        own_dir = tempfile.mkdtemp(prefix="kiln-metrics-")
        os.environ[MULTIPROC_ENV] = own_dir
    try:
        uvicorn.run("kiln.serving.app:app_from_env", factory=True, workers=workers,
                    **common)  # type: ignore[arg-type]
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
