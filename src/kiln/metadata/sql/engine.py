"""Engines for SQLite and PostgreSQL, and schema migrations applied on first use."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.exceptions import ConfigError, MigrationError, StoreUnavailableError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

# Migrations form one chain; each subsystem adds its revision at the end.
KNOWN_REVISIONS = (
    "0001",
    "0002_data",
    "0002_features",
    "0002_pipelines",
    "0002_serving",
    "0002_governance",
    "0002_server",
    "0003_monitoring",
    "0003_sweeps",
    "0003_serving",
)
HEAD_REVISION = KNOWN_REVISIONS[-1]
ACCEPTED_URLS = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE"
_PG_MIGRATION_LOCK = 0x6B696C6E  # "kiln": serializes concurrent first-use migrations


def redact(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def create_engine(url: str) -> Engine:
    """An engine for ``url`` with kiln's connection settings (WAL and busy timeout on SQLite)."""
    from sqlalchemy import create_engine as sa_create_engine
    from sqlalchemy import event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"database URL {redact(url)!r} cannot be parsed; accepted: {ACCEPTED_URLS}"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailableError(
                    f"cannot create the folder of SQLite database {database!r}: {exc.strerror}"
                ) from None
        engine = sa_create_engine(
            parsed, connect_args={"timeout": 60, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return sa_create_engine(
                parsed,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 10},
            )
        except (NoSuchModuleError, ModuleNotFoundError):
            raise ConfigError(
                f"database URL {redact(url)!r} needs the PostgreSQL driver: "
                "pip install 'kiln[postgres]'"
            ) from None
    raise ConfigError(f"database URL {redact(url)!r} is not supported; accepted: {ACCEPTED_URLS}")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a commit survives a process crash; only an OS crash or power
    # loss can drop the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA case_sensitive_like=ON")
    # Searches over 100k+ runs hop between index pages: keep them in memory.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # Writers take the lock up front, so concurrent processes queue on the busy
    # timeout instead of failing with "database is locked" on lock upgrade.
    # Straight to the driver: this runs for every transaction, on the hot write path.
    read_only = connection.get_execution_options().get("kiln_read_only")
    dbapi = connection.connection.driver_connection
    dbapi.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")  # type: ignore[union-attr]


def migrate(engine: Engine) -> None:
    """Bring the schema to :data:`HEAD_REVISION`; a no-op query when it is already there."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect().execution_options(kiln_read_only=True) as conn:
            try:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except DBAPIError as exc:
                if exc.connection_invalidated or _is_connect_error(exc):
                    raise
                current = None
    except DBAPIError as exc:
        raise StoreUnavailableError(
            f"cannot reach metadata store {redact(str(engine.url.render_as_string(False)))}: "
            f"{_first_line(exc)}; accepted: {ACCEPTED_URLS}"
        ) from None
    if current == HEAD_REVISION:
        return
    if current is not None and current not in KNOWN_REVISIONS:
        raise MigrationError(
            f"metadata store schema revision {current!r} is newer than this kiln "
            f"(knows up to {HEAD_REVISION!r}); upgrade kiln"
        )
    _upgrade(engine)


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _is_connect_error(exc: Exception) -> bool:
    msg = str(exc).lower()
    return any(
        s in msg
        for s in ("connection refused", "could not connect", "unable to open", "timeout expired")
    )


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    return lines[0] if lines else type(orig).__name__
