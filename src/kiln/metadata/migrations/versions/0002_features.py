"""Feature store: versioned definitions and materialization progress.

Revision ID: 0002_features
Revises: 0002_data
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_features"
down_revision = "0002_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feature_definitions",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
    )
    op.create_table(
        "feature_materializations",
        sa.Column("view", sa.String(255), primary_key=True),
        sa.Column("target", sa.String(1024), primary_key=True),
        sa.Column("view_version", sa.Integer, nullable=False),
        sa.Column("until", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("feature_materializations")
    op.drop_table("feature_definitions")
