"""Reading and verifying the hash-chained audit log.

Each event stores ``sha256(previous hash + its canonical JSON)`` and the chain
head row stores the newest hash, so editing, inserting or deleting any event
(including the newest) breaks a link. Someone able to rewrite the whole table
and the head consistently is out of reach of any in-database check; export
``kiln audit log --json`` (or the head hash) elsewhere to anchor it.

>>> import kiln
>>> ws = kiln.Workspace.ephemeral()
>>> _ = ws.create_run("churn")
>>> verify_chain(ws.store).ok
True
>>> ws.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiln.entities._audit import GENESIS_HASH

if TYPE_CHECKING:
    from kiln.entities import AuditEvent
    from kiln.metadata.base import AuditStore

_PAGE = 5000


@dataclass(frozen=True)
class VerifyResult:
    """``ok`` when every event hashes right and links to the one before; otherwise
    ``bad_seq`` is the first event that does not, and ``reason`` says why."""

    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str = ""

    def message(self) -> str:
        """One line for people."""
        if self.ok:
            return f"audit log intact: {self.checked} events, hash chain verified"
        return f"audit log tampered: event #{self.bad_seq} {self.reason}"


def describe(event: AuditEvent) -> str:
    """``alias.set model churn-clf by alice``."""
    return f"{event.action} {event.object_kind} {event.object_id} by {event.actor}"


def verify_chain(store: AuditStore) -> VerifyResult:
    """Walk the whole chain in order; name the first edited, inserted or deleted event."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    while True:
        page = store.list_audit_events(after_seq=expected_seq - 1, limit=_PAGE)
        for event in page:
            if event.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq,
                                    f"is missing (the chain jumps from #{expected_seq - 1} "
                                    f"to #{event.seq})")
            if event.prev_hash != prev_hash:
                return VerifyResult(False, checked, event.seq,
                                    f"({describe(event)}) does not link to the event before "
                                    "it: an earlier event was edited or deleted")
            if event.hash != event.expected_hash():
                return VerifyResult(False, checked, event.seq,
                                    f"({describe(event)}) was edited: its content does not "
                                    "match its hash")
            prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
        if len(page) < _PAGE:
            break
    head_seq, head_hash = store.audit_head()
    if head_seq < 0:
        return VerifyResult(False, checked, checked + 1, "cannot be checked: the chain head "
                            "row was deleted")
    if head_seq == checked and head_hash != prev_hash:
        return VerifyResult(False, checked, checked, "was rewritten: its hash differs from "
                            "the one the chain head recorded")
    if head_seq != checked:
        return VerifyResult(False, checked, checked + 1,
                            f"is missing: the chain head says the log ends at #{head_seq}, "
                            f"the table ends at #{checked}")
    return VerifyResult(True, checked)
