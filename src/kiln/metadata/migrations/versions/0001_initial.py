"""Initial schema: experiments, runs, params, tags, metrics, artifacts, registry, lineage.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("runs.run_id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("parent_run_id", sa.String(32)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_runs_experiment_start", "runs", ["experiment_id", "start_time"])
    op.create_index("ix_runs_parent", "runs", ["parent_run_id"])
    for kv in ("params", "tags"):
        op.create_table(
            kv,
            sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
            sa.Column("key", sa.String(255), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
            sa.Column("experiment_id", sa.Integer, nullable=False),
        )
        # Filters probe the (run_id, key) primary key (see kiln.metadata.sql.search);
        # this index serves ordering by a param or tag. No index on long values: every
        # extra index is paid on each of the many small writes of run creation.
        op.create_index(f"ix_{kv}_experiment_key", kv, ["experiment_id", "key"])
    op.create_table(
        "metrics",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), _run_fk(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Float(precision=53)),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_metrics_run_key_step", "metrics", ["run_id", "key", "step"])
    op.create_table(
        "latest_metrics",
        sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Float(precision=53)),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_latest_metrics_experiment_key_value",
        "latest_metrics",
        ["experiment_id", "key", "value"],
    )
    op.create_table(
        "run_artifacts",
        sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column(
            "name",
            sa.String(255),
            sa.ForeignKey("registered_models.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(32)),
        sa.Column("flavor", sa.String(64), nullable=False),
        sa.Column("artifact", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
    )
    op.create_index("ix_model_versions_run", "model_versions", ["run_id"])
    op.create_table(
        "model_aliases",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("alias", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "alias_events",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("alias", sa.String(255), nullable=False),
        sa.Column("from_version", sa.Integer),
        sa.Column("to_version", sa.Integer),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_alias_events_name_alias", "alias_events", ["name", "alias"])
    op.create_table(
        "lineage_edges",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("src_kind", sa.String(64), nullable=False),
        sa.Column("src_id", sa.String(255), nullable=False),
        sa.Column("dst_kind", sa.String(64), nullable=False),
        sa.Column("dst_id", sa.String(255), nullable=False),
        sa.Column("relation", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_lineage_src", "lineage_edges", ["src_kind", "src_id"])
    op.create_index("ix_lineage_dst", "lineage_edges", ["dst_kind", "dst_id"])


def downgrade() -> None:
    for table in (
        "lineage_edges",
        "alias_events",
        "model_aliases",
        "model_versions",
        "registered_models",
        "run_artifacts",
        "latest_metrics",
        "metrics",
        "tags",
        "params",
        "runs",
        "experiments",
    ):
        op.drop_table(table)
