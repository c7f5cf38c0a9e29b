"""Serving: versioned deployments, the prediction-log index and feedback.

Revision ID: 0002_serving
Revises: 0002_pipelines
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_serving"
down_revision = "0002_pipelines"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "deployment_versions",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "prediction_logs",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("deployment", sa.String(255), nullable=False),
        sa.Column("artifact", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_prediction_logs_deployment_time", "prediction_logs",
                    ["deployment", "start_time"])
    op.create_table(
        "prediction_feedback",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("deployment", sa.String(255), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("extra", sa.Text, nullable=False, server_default="{}"),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_prediction_feedback_deployment_time", "prediction_feedback",
                    ["deployment", "timestamp"])


def downgrade() -> None:
    op.drop_table("prediction_feedback")
    op.drop_table("prediction_logs")
    op.drop_table("deployment_versions")
