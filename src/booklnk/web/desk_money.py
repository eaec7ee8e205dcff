"""The owner's money: what moved lately (online and at the desk, each entry linked to its
booking), today's desk takings by method, and the nightly reconciliation runs with each
mismatch and what to do about it."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from booklnk.payments import ledger, reconciliation
from booklnk.tenancy.service import get_business
from booklnk.web import rendering
from booklnk.web.guard import OwnerDep, SessionDep, WebRoute, language_of, now_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
RECENT_DAYS = 30
RECENT_LIMIT = 100
RUNS = 14


@router.get("/desk/{business_id}/money")
async def money_page(request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep) -> Response:
    language, now = language_of(request), now_of(request)
    business = await get_business(tx, business_id)
    entries = await ledger.recent(
        tx, business_id, since=now - timedelta(days=RECENT_DAYS), limit=RECENT_LIMIT
    )
    midnight = datetime.combine(
        now.astimezone(ZoneInfo(ctx.time_zone)).date(), time(), tzinfo=ZoneInfo(ctx.time_zone)
    )
    takings = await ledger.desk_takings(tx, business_id, since=midnight)
    runs, _ = await reconciliation.runs(tx, business_id, cursor=None, limit=RUNS)
    found = {}
    for run in runs:
        if run.mismatches:
            found[run.id], _ = await reconciliation.mismatches(tx, business_id, run.id, cursor=None, limit=50)
    return rendering.page(
        request,
        language,
        "desk_money.html",
        business=business,
        entries=entries,
        takings=takings,
        runs=runs,
        mismatches=found,
        time_zone=ctx.time_zone,
        base=f"/{language}/desk/{business_id}",
    )
