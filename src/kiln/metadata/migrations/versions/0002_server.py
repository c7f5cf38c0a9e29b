"""Access control of ``kiln server``: users, hashed API tokens, model owners.

Revision ID: 0002_server
Revises: 0002_governance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_server"
down_revision = "0002_governance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(32), primary_key=True),
        sa.Column("user", sa.String(255), sa.ForeignKey("users.name", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(255), nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
    )
    op.create_table(
        "model_owners",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("user", sa.String(255), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("model_owners")
    op.drop_table("api_tokens")
    op.drop_table("users")
