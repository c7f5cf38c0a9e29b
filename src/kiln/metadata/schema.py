"""The metadata tables (SQLAlchemy Core). Alembic migrations under ``migrations/`` create them.

Subsystems never touch these tables directly; they go through the store's methods.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid; elsewhere use 64 bits.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.experiment_id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("user", String(255), nullable=False),
    Column("parent_run_id", String(32)),
    Column("error", Text),
    Index("ix_runs_experiment_start", "experiment_id", "start_time"),
    Index("ix_runs_parent", "parent_run_id"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Index("ix_params_experiment_key", "experiment_id", "key"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Index("ix_tags_experiment_key", "experiment_id", "key"),
)

# Every logged point. NaN is stored as NULL (SQLite cannot hold NaN).
metrics = Table(
    "metrics",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", Float(precision=53)),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_metrics_run_key_step", "run_id", "key", "step"),
)

# The latest point per (run, metric): what filters and ordering read.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("value", Float(precision=53)),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("experiment_id", Integer, nullable=False),
    Index("ix_latest_metrics_experiment_key_value", "experiment_id", "key", "value"),
)

run_artifacts = Table(
    "run_artifacts",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
)

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Column("description", Text, nullable=False, default=""),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column(
        "name",
        String(255),
        ForeignKey("registered_models.name", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("run_id", String(32)),
    Column("flavor", String(64), nullable=False),
    Column("artifact", String(64), nullable=False),
    Column("signature", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("user", String(255), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Index("ix_model_versions_run", "run_id"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("alias", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
)

alias_events = Table(
    "alias_events",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("alias", String(255), nullable=False),
    Column("from_version", Integer),
    Column("to_version", Integer),
    Column("user", String(255), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_alias_events_name_alias", "name", "alias"),
)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("src_kind", String(64), nullable=False),
    Column("src_id", String(255), nullable=False),
    Column("dst_kind", String(64), nullable=False),
    Column("dst_id", String(255), nullable=False),
    Column("relation", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_lineage_src", "src_kind", "src_id"),
    Index("ix_lineage_dst", "dst_kind", "dst_id"),
)

# -- access control of ``kiln server`` (migration 0002_server) ------------------------------
users = Table(
    "users",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("user", String(255), ForeignKey("users.name", ondelete="CASCADE"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("label", String(255), nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

model_owners = Table(
    "model_owners",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("user", String(255), primary_key=True),
)
