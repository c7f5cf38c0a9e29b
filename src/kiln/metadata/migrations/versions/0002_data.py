"""Data versions: datasets and their numbered versions.

Revision ID: 0002_data
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_data"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("name", sa.String(255), sa.ForeignKey("datasets.name"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("tree", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("file_count", sa.BigInteger, nullable=False),
        sa.Column("rows", sa.BigInteger),
        sa.Column("schema", sa.Text),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
    )
    op.create_index("ix_dataset_versions_tree", "dataset_versions", ["tree"])


def downgrade() -> None:
    op.drop_index("ix_dataset_versions_tree", table_name="dataset_versions")
    op.drop_table("dataset_versions")
    op.drop_table("datasets")
