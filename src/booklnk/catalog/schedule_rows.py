"""The schedules of a business and of its staff and resources over a window, read in one
statement whatever the number of owners: weekly hours, the overrides on the window's dates
and the time off overlapping it, as rows of one shape (`period_rows` lets a caller add its
own periods, such as busy time, to the same statement)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Executable,
    Select,
    SmallInteger,
    SQLColumnExpression,
    String,
    Time,
    Uuid,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.catalog.models import (
    DateOverride,
    DateOverrideInterval,
    IntervalKind,
    OwnerKind,
    TimeOff,
    WeeklyInterval,
)
from booklnk.catalog.schedule_rules import DayOverride, Span, WeeklySchedule, WeeklySpan, from_db_time

OwnerRef = tuple[str, uuid.UUID | None]
"""("business", None) | ("staff", id) | ("resource", id)."""


@dataclass
class OwnerSchedule:
    """One owner's schedule rows over a window: its week, the overrides on the window's
    dates and the time off overlapping it (UTC (start, end) pairs)."""

    week: WeeklySchedule = field(default_factory=WeeklySchedule)
    overrides: list[DayOverride] = field(default_factory=list)
    time_off: list[tuple[datetime, datetime]] = field(default_factory=list)


_WEEKLY, _OVERRIDE, _TIME_OFF = 0, 1, 2  # the `source` column of the schedule rows


_MOMENTS = ARRAY(DateTime(timezone=True))
_MICROS = ARRAY(BigInteger)  # epoch microseconds: see `period_rows`


def _none(type_: Any) -> ColumnElement[Any]:
    return cast(null(), type_)


def period_rows(
    source: int,
    owner_kind: SQLColumnExpression[Any],
    staff_id: SQLColumnExpression[Any],
    resource_id: SQLColumnExpression[Any],
    starts: SQLColumnExpression[Any],
    ends: SQLColumnExpression[Any],
    *,
    in_micros: bool = False,
) -> Select[*tuple[Any, ...]]:
    """A select of periods in the schedule rows' shape, for `schedules_with`: one row per
    owner (`source` set apart from this module's 0 to 2) with the starts and the ends of
    its periods in two arrays, pair by pair: of timestamps (columns 11 and 12) or, with
    `in_micros`, of epoch microseconds (columns 13 and 14). Thousands of busy periods come
    back as a few arrays, which the driver decodes in C, instead of a row each. Add the
    FROM and the filter."""
    moments = (_none(_MOMENTS), _none(_MOMENTS)) if in_micros else (starts, ends)
    micros = (starts, ends) if in_micros else (_none(_MICROS), _none(_MICROS))
    return select(
        literal_column(str(source), SmallInteger),
        owner_kind,
        staff_id,
        resource_id,
        _none(String),
        _none(SmallInteger),
        _none(Time),
        _none(Time),
        _none(Uuid),
        _none(Date),
        _none(Boolean),
        *moments,
        *micros,
    )


def _schedule_parts() -> tuple[Select[*tuple[Any, ...]], ...]:
    """Weekly intervals, date overrides (one row per special-hours interval, or one with
    null times) and time off of the business itself and of the staff and resources in
    two array parameters. Rows share one shape; the columns a source does not use are
    null. Parameters: business_id, staff_ids, resource_ids, first_date, last_date (the
    overrides' dates, inclusive), since, until (the time off's period)."""
    business_id = bindparam("business_id", type_=Uuid)
    staff_ids = bindparam("staff_ids", type_=ARRAY(Uuid))
    resource_ids = bindparam("resource_ids", type_=ARRAY(Uuid))

    def owned(model: type[WeeklyInterval] | type[TimeOff] | type[DateOverride]) -> ColumnElement[bool]:
        # The one_owner CHECK makes the kind and the id sufficient.
        return and_(
            model.business_id == business_id,
            or_(
                model.owner_kind == OwnerKind.BUSINESS.value,
                model.staff_id == any_(staff_ids),
                model.resource_id == any_(resource_ids),
            ),
        )

    weekly = select(
        literal_column(str(_WEEKLY), SmallInteger),
        WeeklyInterval.owner_kind,
        WeeklyInterval.staff_id,
        WeeklyInterval.resource_id,
        WeeklyInterval.kind,
        WeeklyInterval.weekday,
        WeeklyInterval.start_time,
        WeeklyInterval.end_time,
        _none(Uuid),
        _none(Date),
        _none(Boolean),
        _none(_MOMENTS),
        _none(_MOMENTS),
        _none(_MICROS),
        _none(_MICROS),
    ).where(owned(WeeklyInterval))
    overrides = (
        select(
            literal_column(str(_OVERRIDE), SmallInteger),
            DateOverride.owner_kind,
            DateOverride.staff_id,
            DateOverride.resource_id,
            _none(String),
            _none(SmallInteger),
            DateOverrideInterval.start_time,
            DateOverrideInterval.end_time,
            DateOverride.id,
            DateOverride.override_date,
            DateOverride.closed,
            _none(_MOMENTS),
            _none(_MOMENTS),
            _none(_MICROS),
            _none(_MICROS),
        )
        .outerjoin(
            DateOverrideInterval,
            and_(
                DateOverrideInterval.business_id == DateOverride.business_id,
                DateOverrideInterval.override_id == DateOverride.id,
            ),
        )
        .where(
            owned(DateOverride),
            DateOverride.override_date.between(bindparam("first_date"), bindparam("last_date")),
        )
    )
    # (Both aggregates read the group's rows in one order: the arrays pair up.)
    owner = (TimeOff.owner_kind, TimeOff.staff_id, TimeOff.resource_id)
    time_off = (
        period_rows(_TIME_OFF, *owner, func.array_agg(TimeOff.starts_at), func.array_agg(TimeOff.ends_at))
        .where(owned(TimeOff), TimeOff.starts_at < bindparam("until"), TimeOff.ends_at > bindparam("since"))
        .group_by(*owner)
    )
    return weekly, overrides, time_off


_SCHEDULE_PARTS = _schedule_parts()
_SCHEDULES = union_all(*_SCHEDULE_PARTS)


def schedules_with(other: Select[*tuple[Any, ...]]) -> Executable:
    """The schedule rows (see `_schedule_parts` for the parameters) and `other`'s rows
    (`period_rows`) in one statement: a caller that needs both pays one round trip."""
    return union_all(*_SCHEDULE_PARTS, other)


def schedule_params(
    business_id: uuid.UUID,
    *,
    staff_ids: Collection[uuid.UUID],
    resource_ids: Collection[uuid.UUID],
    dates: tuple[date, date],
    period: tuple[datetime, datetime],
) -> dict[str, object]:
    return {
        "business_id": business_id,
        "staff_ids": list(staff_ids),
        "resource_ids": list(resource_ids),
        "first_date": dates[0],
        "last_date": dates[1],
        "since": period[0],
        "until": period[1],
    }


async def owner_schedules(
    session: AsyncSession,
    business_id: uuid.UUID,
    *,
    staff_ids: Collection[uuid.UUID],
    resource_ids: Collection[uuid.UUID],
    dates: tuple[date, date],
    period: tuple[datetime, datetime],
) -> dict[OwnerRef, OwnerSchedule]:
    """The schedules of the business itself and of the given staff and resources only (not
    every owner of the business), in one query whatever the number of owners: weekly
    intervals, the overrides on `dates` (inclusive) and the time off overlapping `period`.
    Owners without rows are absent."""
    params = schedule_params(
        business_id, staff_ids=staff_ids, resource_ids=resource_ids, dates=dates, period=period
    )
    return read_schedules(await session.execute(_SCHEDULES, params))


def read_schedules(rows: Iterable[Sequence[Any]]) -> dict[OwnerRef, OwnerSchedule]:
    """The schedules in schedule rows (sources 0 to 2 only)."""
    found: dict[OwnerRef, OwnerSchedule] = defaultdict(OwnerSchedule)
    overrides: dict[uuid.UUID, DayOverride] = {}
    for row in rows:
        source, owner_kind, staff_id, resource_id, kind, weekday, start, end = row[:8]
        # The one_owner CHECK: the kind says which id is set (none for the business).
        schedule = found[(owner_kind, staff_id or resource_id)]
        if source == _WEEKLY:
            target = schedule.week.hours if kind == IntervalKind.HOURS else schedule.week.breaks
            target.append(WeeklySpan(weekday, _db_span(start, end)))
        elif source == _OVERRIDE:
            override_id, on, closed = row[8:11]
            override = overrides.get(override_id)
            if override is None:
                override = overrides[override_id] = DayOverride(on, closed, [])
                schedule.overrides.append(override)
            if start is not None:
                override.hours.append(_db_span(start, end))
        else:
            schedule.time_off.extend(zip(row[11], row[12], strict=True))
    return dict(found)


def _db_span(start: time, end: time) -> Span:
    return Span(from_db_time(start, is_end=False), from_db_time(end, is_end=True))
