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

datasets = Table(
    "datasets",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("name", String(255), ForeignKey("datasets.name"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("tree", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("file_count", BigInteger, nullable=False),
    Column("rows", BigInteger),
    Column("schema", Text),
    Column("user", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("git_commit", String(64)),
    Column("source", Text, nullable=False),
    Column("description", Text, nullable=False),
    Index("ix_dataset_versions_tree", "tree"),
)

# Feature store: every version of every entity and feature view (spec as JSON).
feature_definitions = Table(
    "feature_definitions",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("spec", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("user", String(255), nullable=False),
)

# How far each feature view is materialized into each online store.
feature_materializations = Table(
    "feature_materializations",
    metadata,
    Column("view", String(255), primary_key=True),
    Column("target", String(1024), primary_key=True),
    Column("view_version", Integer, nullable=False),
    Column("until", BigInteger, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)
# -- pipelines (migration 0002_pipelines) ------------------------------------------------
# A step's outputs by cache key (hash of code, parameters and input content).
pipeline_cache = Table(
    "pipeline_cache",
    metadata,
    Column("cache_key", String(64), primary_key=True),
    Column("step_run_id", String(32), nullable=False),
    Column("outputs", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

pipeline_triggers = Table(
    "pipeline_triggers",
    metadata,
    Column("trigger_id", String(255), primary_key=True),
    Column("pipeline", String(512), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("spec", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# The primary key is what makes a firing happen once, whichever scheduler gets there first.
trigger_fires = Table(
    "trigger_fires",
    metadata,
    Column("trigger_id", String(255), primary_key=True),
    Column("fire_key", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("fired_at", BigInteger, nullable=False),
    Column("run_id", String(32)),
)

trigger_events = Table(
    "trigger_events",
    metadata,
    Column("event_id", _BigId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_trigger_events_kind_name", "kind", "name", "event_id"),
)

scheduler_leases = Table(
    "scheduler_leases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# -- serving (migrations 0002_serving, 0003_serving) --------------------------------------
# One row per deployment, locked while its next version is numbered (0003_serving).
deployments = Table(
    "deployments",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)

# Every change of a deployment is a new row; the current one is the highest version.
deployment_versions = Table(
    "deployment_versions",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("user", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("message", Text, nullable=False, default=""),
)

prediction_logs = Table(
    "prediction_logs",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("deployment", String(255), nullable=False),
    Column("artifact", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_prediction_logs_deployment_time", "deployment", "start_time"),
)

prediction_feedback = Table(
    "prediction_feedback",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("deployment", String(255), nullable=False),
    Column("label", Text, nullable=False),
    Column("extra", Text, nullable=False, default="{}"),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_prediction_feedback_deployment_time", "deployment", "timestamp"),
)

# The tamper-evident audit log (kiln.governance): one row per change of state,
# each carrying sha256(previous hash + its own canonical JSON).
audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", _BigId, primary_key=True, autoincrement=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_kind", String(64), nullable=False),
    Column("object_id", String(512), nullable=False),
    Column("before", Text),
    Column("after", Text),
    Column("timestamp", BigInteger, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_events_object", "object_kind", "object_id"),
    Index("ix_audit_events_action", "action"),
)

# One row (id = 1): the last event's seq and hash. Appenders lock it (FOR UPDATE on
# PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers), so the chain has
# one writer at a time, and deleting the newest events shows as a head mismatch.
audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
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

# -- monitoring (migration 0003_monitoring) -------------------------------------------------
monitors = Table(
    "monitors",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("deployment", String(255), nullable=False),
    Column("every_ms", BigInteger, nullable=False),
    Column("window_ms", BigInteger, nullable=False),
    Column("config", Text, nullable=False),
    Column("user", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# One row per window a monitor looked at: statistics only (JSON), numbered per monitor.
monitor_results = Table(
    "monitor_results",
    metadata,
    Column("monitor", String(255), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("window_start", BigInteger, nullable=False),
    Column("window_end", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("monitor", String(255), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("expression", Text, nullable=False),
    Column("sinks", Text, nullable=False),
    Column("cooldown_ms", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", _BigId, primary_key=True, autoincrement=True),
    Column("monitor", String(255), nullable=False),
    Column("rule", String(255), nullable=False),
    Column("expression", Text, nullable=False),
    Column("value", Float),
    Column("message", Text, nullable=False),
    Column("window_seq", Integer, nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("sinks", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_alerts_monitor_rule", "monitor", "rule", "alert_id"),
)

reference_profiles = Table(
    "reference_profiles",
    metadata,
    Column("model", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("artifact", String(64), nullable=False),
    Column("dataset", String(512), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# Hyperparameter sweeps: each sweep's Optuna study is an append-only journal of operations.
sweeps = Table(
    "sweeps",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Column("next_seq", Integer, nullable=False, default=0),
)

sweep_journal = Table(
    "sweep_journal",
    metadata,
    Column("sweep", String(255), ForeignKey("sweeps.name", ondelete="CASCADE"),
           primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("entry", Text, nullable=False),
)
