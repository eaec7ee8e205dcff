"""A business's audit log (owners)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from booklnk.api.deps import OwnerCtx, SessionDep
from booklnk.api.pagination import PAGED, CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.audit.schemas import AuditEventOut
from booklnk.flows import audit

router = APIRouter(tags=["businesses"])


@router.get(
    "/v1/businesses/{business_id}/audit-events",
    summary="Who did what, and when (owners)",
    description="Newest first: every booking status change with who made it, refunds asked for, money taken "
    "and handed back at the desk, catalog, hours, rules, staff, invitation and customer-record changes, "
    "exports and erased accounts. Append-only: nothing in it can be changed or deleted. `booking_id` "
    f"narrows it to one booking's story. Staff get 403 `insufficient_role`. {PAGED}",
    response_model=Page[AuditEventOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_audit_events(
    ctx: OwnerCtx,
    session: SessionDep,
    booking_id: Annotated[uuid.UUID | None, Query(description="Only what concerns this booking.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[AuditEventOut]:
    entries, next_cursor = await audit.entries(
        session, ctx, booking_id=booking_id, cursor=cursor, limit=limit
    )
    items = [
        AuditEventOut(
            at=entry.at,
            actor_id=entry.actor_id,
            action=entry.action,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            booking_id=entry.booking_id,
            details=entry.details,
        )
        for entry in entries
    ]
    return Page(items=items, next_cursor=next_cursor)
