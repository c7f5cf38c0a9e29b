"""Audit events: one record per change of state, chained by sha256 so edits show."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """The one JSON spelling hashed by the chain: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """``actor`` did ``action`` to ``object_kind``/``object_id`` at ``timestamp``.

    ``before``/``after`` are the object's relevant state around the change (``None``
    when it did not exist / no longer exists). ``seq`` numbers events 1, 2, 3...
    without gaps; ``hash`` is ``sha256(prev_hash + canonical JSON of the fields)``.
    """

    seq: int
    actor: str
    action: str
    object_kind: str
    object_id: str
    before: Any
    after: Any
    timestamp: int
    prev_hash: str
    hash: str

    def fields(self) -> dict[str, Any]:
        """The fields the hash covers (everything but the hash itself)."""
        return {
            "seq": self.seq,
            "actor": self.actor,
            "action": self.action,
            "object_kind": self.object_kind,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
            "timestamp": self.timestamp,
            "prev_hash": self.prev_hash,
        }

    def expected_hash(self) -> str:
        """The hash these fields must carry."""
        return chain_hash(self.prev_hash, self.fields())


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """sha256 over the previous event's hash and this event's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode("utf-8")).hexdigest()
