"""Serving: one parent row per deployment, locked while its next version is numbered.

Revision ID: 0003_serving
Revises: 0003_sweeps
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_serving"
down_revision = "0003_sweeps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO deployments (name, created_at) "
        "SELECT name, MIN(created_at) FROM deployment_versions GROUP BY name"
    )


def downgrade() -> None:
    op.drop_table("deployments")
