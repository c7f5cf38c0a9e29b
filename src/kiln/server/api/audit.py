"""REST API of the audit log (mirrors :class:`kiln.metadata.base.AuditStore`): read it page
by page (keyset on ``seq``), append events, and verify the hash chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kiln.metadata import wire
from kiln.server.api._common import MAX_LIMIT, Int, store
from kiln.server.security import Principal, editor, viewer

router = APIRouter(tags=["audit"])
Viewer = Annotated[Principal, Depends(viewer)]
Editor = Annotated[Principal, Depends(editor)]


class EventIn(BaseModel):
    actor: str = ""
    action: str = Field(min_length=1, max_length=128)
    object_kind: str = Field(min_length=1, max_length=64)
    object_id: str = Field(min_length=1, max_length=512)
    before: Any = None
    after: Any = None
    timestamp: Int


@router.get("/audit/events", summary="Audit events in order, after a sequence number")
def list_events(request: Request, _: Viewer, object_kind: str | None = None,
                object_id: Annotated[str | None, Query(
                    description="This object, or its versions ('churn' matches 'churn/1')")]
                = None,
                action: str | None = None,
                after_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
                limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000) -> dict[str, Any]:
    events = store(request).list_audit_events(object_kind=object_kind, object_id=object_id,
                                              action=action, after_seq=after_seq,
                                              limit=limit)
    more = len(events) == limit
    return {"items": [wire.record(e) for e in events],
            "next_after_seq": events[-1].seq if more else None}


@router.post("/audit/events", summary="Append an event (the caller is its actor)")
def append(body: EventIn, request: Request, who: Editor) -> dict[str, Any]:
    event = store(request).append_audit_event(who.who(body.actor), body.action,
                                              body.object_kind, body.object_id, body.before,
                                              body.after, body.timestamp)
    return wire.record(event)


@router.get("/audit/head", summary="The last event's sequence number and hash")
def head(request: Request, _: Viewer) -> dict[str, Any]:
    seq, hash_ = store(request).audit_head()
    return {"seq": seq, "hash": hash_}


@router.get("/audit/verify", summary="Check the whole hash chain; name the first bad event")
def verify(request: Request, _: Viewer) -> dict[str, Any]:
    from kiln.governance.audit import verify_chain

    result = verify_chain(store(request))
    return {"ok": result.ok, "checked": result.checked, "bad_seq": result.bad_seq,
            "reason": result.reason, "message": result.message()}
