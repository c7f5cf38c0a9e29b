"""Metadata stores: one interface (``base.MetadataStore``), backends picked by URL.

Backends are imported lazily from a short-name table, extended by the
``kiln.metadata_stores`` entry-point group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln._plugins import load_plugin

if TYPE_CHECKING:
    from kiln.metadata.base import MetadataStore

BACKENDS = {
    "sqlite": "kiln.metadata.sql:SqlMetadataStore",
    "postgresql": "kiln.metadata.sql:SqlMetadataStore",
    "http": "kiln.metadata.rest:RestMetadataStore",
    "https": "kiln.metadata.rest:RestMetadataStore",
}


def open_metadata_store(url: str) -> MetadataStore:
    """Open the metadata store at ``url`` (``sqlite:///...``, ``postgresql+psycopg://...``,
    or ``http://host:port`` of a ``kiln server``)."""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    cls = load_plugin("kiln.metadata_stores", BACKENDS, scheme, what="metadata store URL scheme")
    store: MetadataStore = cls(url)
    return store
