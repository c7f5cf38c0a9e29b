"""Pipelines: step cache, triggers, trigger firings and events, scheduler leases.

Revision ID: 0002_pipelines
Revises: 0002_features
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_pipelines"
down_revision = "0002_features"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pipeline_cache",
        sa.Column("cache_key", sa.String(64), primary_key=True),
        sa.Column("step_run_id", sa.String(32), nullable=False),
        sa.Column("outputs", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "pipeline_triggers",
        sa.Column("trigger_id", sa.String(255), primary_key=True),
        sa.Column("pipeline", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "trigger_fires",
        sa.Column("trigger_id", sa.String(255), primary_key=True),
        sa.Column("fire_key", sa.String(255), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("fired_at", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(32)),
    )
    op.create_table(
        "trigger_events",
        sa.Column("event_id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_trigger_events_kind_name", "trigger_events",
                    ["kind", "name", "event_id"])
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("scheduler_leases", "trigger_events", "trigger_fires", "pipeline_triggers",
                  "pipeline_cache"):
        op.drop_table(table)
