"""Hyperparameter sweeps: a sweep's Optuna study kept as a journal of operations.

Revision ID: 0003_sweeps
Revises: 0003_monitoring
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sweeps"
down_revision = "0003_monitoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("next_seq", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "sweep_journal",
        sa.Column("sweep", sa.String(255), sa.ForeignKey("sweeps.name", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("entry", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sweep_journal")
    op.drop_table("sweeps")
