"""Alembic environment: runs on the connection kiln hands it (``kiln.metadata.sql.engine``)."""

from __future__ import annotations

from alembic import context

from kiln.metadata.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
