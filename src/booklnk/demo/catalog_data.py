"""The demo businesses' catalogs, written through the catalog's own use cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.classes import series as classes
from booklnk.catalog import schedules, service
from booklnk.catalog.owner import ScheduleOwner
from booklnk.catalog.schedule_rules import DayOverride, Span, WeeklySchedule, WeeklySpan, parse_wall_clock
from booklnk.kernel.clock import utcnow
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.models import User

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
SAT_TO_THU = (SAT, SUN, MON, TUE, WED, THU)  # the Egyptian working week: Friday off


def week(days: Sequence[int], *spans: str, breaks: Sequence[str] = ()) -> WeeklySchedule:
    """`week((SAT, SUN), "10:00-18:00", breaks=["14:00-14:30"])`."""

    def parse(text: str) -> Span:
        start, end = text.split("-")
        return Span(parse_wall_clock(start), parse_wall_clock(end))

    return WeeklySchedule(
        hours=[WeeklySpan(day, parse(s)) for day in days for s in spans],
        breaks=[WeeklySpan(day, parse(b)) for day in days for b in breaks],
    )


async def load(
    session: AsyncSession, ctx: BusinessContext, business_type: str, staff: Sequence[tuple[User, str]]
) -> None:
    loaders = {"barbershop": _barbershop, "gym": _gym, "consultant": _consultant}
    await loaders[business_type](session, ctx, staff)


async def _staff_rows(
    session: AsyncSession,
    ctx: BusinessContext,
    staff: Sequence[tuple[User, str]],
    hours: Sequence[WeeklySchedule],
) -> list[ScheduleOwner]:
    owners = []
    for (user, name), schedule in zip(staff, hours, strict=True):
        row = await service.create_staff(session, ctx, display_name=name, user_id=user.id, active=True)
        owner = ScheduleOwner.staff(row.id)
        await schedules.replace_weekly_schedule(session, ctx, owner, schedule)
        owners.append(owner)
    return owners


async def _barbershop(session: AsyncSession, ctx: BusinessContext, staff: Sequence[tuple[User, str]]) -> None:
    opening = week(SAT_TO_THU, "10:00-22:00")
    await schedules.replace_weekly_schedule(session, ctx, ScheduleOwner.business(), opening)
    barbers = await _staff_rows(
        session,
        ctx,
        staff,
        [
            week((SAT, SUN, MON, TUE, WED), "10:00-18:00", breaks=["14:00-14:30"]),
            week((SUN, MON, TUE, WED, THU), "14:00-22:00", breaks=["18:00-18:30"]),
            week(SAT_TO_THU, "12:00-20:00", breaks=["16:00-16:30"]),
        ],
    )
    for number in (1, 2, 3):
        chair = await service.create_resource(session, ctx, name=f"Chair {number}", kind="chair", active=True)
        await schedules.replace_weekly_schedule(session, ctx, ScheduleOwner.resource(chair.id), opening)
    ids = [b.id for b in barbers if b.id is not None]
    for name, durations, price in (
        ("Haircut", [30, 45], 15_000),
        ("Beard trim", [30], 8_000),
        ("Haircut and beard", [60], 20_000),
    ):
        await service.create_service(
            session,
            ctx,
            service.ServiceSpec(
                name=name,
                price_minor=price,
                duration_options_minutes=durations,
                required_resource_kinds=["chair"],
                staff_ids=ids,
            ),
        )


async def _gym(session: AsyncSession, ctx: BusinessContext, staff: Sequence[tuple[User, str]]) -> None:
    await schedules.replace_weekly_schedule(
        session, ctx, ScheduleOwner.business(), week(SAT_TO_THU, "06:00-23:00")
    )
    trainers = await _staff_rows(
        session,
        ctx,
        staff,
        [
            week((SAT, MON, WED), "07:00-09:00", "18:00-21:00"),
            week((SUN, TUE, THU), "07:00-09:00", "18:00-21:00"),
        ],
    )
    studio = await service.create_resource(session, ctx, name="Studio A", kind="room", active=True)
    await schedules.replace_weekly_schedule(
        session, ctx, ScheduleOwner.resource(studio.id), week(SAT_TO_THU, "06:00-23:00")
    )
    ids = [t.id for t in trainers if t.id is not None]
    today = utcnow().date()
    for name, minutes, capacity, price, trainer, rule, start in (
        ("Spinning", 60, 12, 12_000, 0, "FREQ=WEEKLY;BYDAY=SA,MO,WE", time(18)),
        ("Yoga", 60, 15, 10_000, 1, "FREQ=WEEKLY;BYDAY=SU,TU,TH", time(18)),
        ("HIIT", 30, 10, 8_000, 0, "FREQ=WEEKLY;BYDAY=SA,MO,WE", time(19, 30)),
    ):
        created = await service.create_service(
            session,
            ctx,
            service.ServiceSpec(
                name=name,
                price_minor=price,
                duration_options_minutes=[minutes],
                capacity=capacity,
                required_resource_kinds=["room"],
                staff_ids=ids,
            ),
        )
        # Open-ended weekly classes: the worker's daily job keeps them a horizon ahead.
        spec = classes.SeriesSpec(created.service.id, ids[trainer], rule, today, start)
        await classes.publish_series(session, ctx, spec, now=utcnow())


async def _consultant(session: AsyncSession, ctx: BusinessContext, staff: Sequence[tuple[User, str]]) -> None:
    hours = week((SUN, MON, TUE, WED, THU), "09:00-17:00", breaks=["13:00-14:00"])
    await schedules.replace_weekly_schedule(session, ctx, ScheduleOwner.business(), hours)
    consultants = await _staff_rows(session, ctx, staff, [hours])
    # Coptic Christmas: the office is closed.
    await schedules.create_override(
        session, ctx, ScheduleOwner.business(), DayOverride(date(2027, 1, 7), closed=True)
    )
    await service.create_service(
        session,
        ctx,
        service.ServiceSpec(
            name="Strategy session",
            description="Business strategy review; tell us your topic when booking.",
            price_minor=60_000,
            duration_options_minutes=[30, 60],
            staff_ids=[c.id for c in consultants if c.id is not None],
        ),
    )
