"""Online stores: the latest feature values per entity, for low-latency lookups.

One small interface (:mod:`kiln.features.online.base`), backends picked by URL
scheme from a short-name table (extended by the ``kiln.online_stores``
entry-point group) and imported lazily.
"""

from __future__ import annotations

from kiln.features.online.base import ONLINE_STORES, OnlineStore, open_online_store

__all__ = ["ONLINE_STORES", "OnlineStore", "open_online_store"]
