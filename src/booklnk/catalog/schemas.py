"""API shapes of the catalog (never the table classes).

PATCH bodies: an omitted field is left unchanged; `null` resets a nullable field to its
default (a service's buffers, capacity, durations and currency) and is refused (rule
`not_nullable`) for the others.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any, ClassVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from booklnk.business_types.definition import INTEGER_RULE_LIMITS
from booklnk.catalog.schedule_rules import (
    WALL_CLOCK_PATTERN,
    DayOverride,
    Span,
    WeeklySchedule,
    WeeklySpan,
    format_wall_clock,
    parse_wall_clock,
)

# FastAPI validates a body in pydantic's Python mode (over the parsed JSON), where a lax
# int takes "100", true and 100.0 and a lax bool takes "yes", "off", 0 and 1: the numbers
# and flags of input bodies are Strict (a JSON integer, a JSON boolean) so a wrong type is
# a 422 naming the field, never a silent conversion. Only these types are strict, not the
# models: a strict model would also refuse the UUID, date and datetime strings of the JSON.
# Query parameters arrive as strings and keep the lax types.
Flag = Annotated[bool, Strict()]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Minutes = Annotated[
    int, Strict(), Field(le=1440, description="Minutes; a positive multiple of the type's slot grid.")
]
BufferMinutes = Annotated[
    int,
    Strict(),
    Field(
        ge=INTEGER_RULE_LIMITS["buffer_before_minutes"][0], le=INTEGER_RULE_LIMITS["buffer_before_minutes"][1]
    ),
]
Capacity = Annotated[int, Strict(), Field(ge=1, le=INTEGER_RULE_LIMITS["default_capacity"][1])]
PriceMinor = Annotated[
    int, Strict(), Field(ge=0, le=10**12, description="Integer minor units (piasters for EGP).")
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EGP"])]
ResourceKind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$", examples=["chair"])]
WallClock = Annotated[
    str,
    Field(
        pattern=WALL_CLOCK_PATTERN,
        examples=["09:00"],
        description="Local wall-clock HH:MM; 24:00 ends a day.",
    ),
]
Weekday = Annotated[int, Strict(), Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday.")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
# Calendars far outside any booking horizon only invite overflow at the edges of the
# datetime range (year 1 or 9999 plus an offset); keep them within sane years.
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2199, 12, 31)
EARLIEST_INSTANT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST_INSTANT = dt.datetime(2199, 12, 31, tzinfo=dt.UTC)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# Pydantic's lax date and datetime also read a number, or a string of digits, as Unix time
# (1798761600 becomes 2027-01-01): dates and instants are accepted as ISO text only.
def _iso_date(value: object) -> object:
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_type", "Input should be a date as YYYY-MM-DD")


def _iso_instant(value: object) -> object:
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise PydanticCustomError(
        "datetime_type", "Input should be an ISO 8601 date-time with its UTC offset, e.g. 2027-01-01T09:00Z"
    )


CalendarDate = Annotated[
    dt.date,
    BeforeValidator(_iso_date),
    Field(ge=EARLIEST, le=LATEST, description="A calendar date (YYYY-MM-DD) between 2000 and 2199."),
]
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_instant),
    Field(
        ge=EARLIEST_INSTANT,
        le=LATEST_INSTANT,
        description="An instant with its UTC offset, between 2000 and 2199.",
    ),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatchBody(_In):
    """A PATCH body: `NOT_NULLABLE` fields may be omitted but not set to null."""

    NOT_NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.NOT_NULLABLE:
            raise PydanticCustomError("not_nullable", "may be omitted but not null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, nothing else."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ServiceCreate(_In):
    name: Name
    description: Description = ""
    duration_options_minutes: Annotated[list[Minutes], Field(min_length=1, max_length=12)] | None = Field(
        default=None, description="Bookable lengths; omitted: the business type's defaults."
    )
    price_minor: PriceMinor
    currency: Currency | None = Field(
        default=None, description="Must be the business's currency (the default)."
    )
    buffer_before_minutes: BufferMinutes | None = Field(default=None, description="Null: the type's default.")
    buffer_after_minutes: BufferMinutes | None = Field(default=None, description="Null: the type's default.")
    capacity: Capacity | None = Field(
        default=None,
        description="Class mode: spots per session (default: the type's default capacity). "
        "Appointment mode: omit it, or 1.",
    )
    required_resource_kinds: Annotated[list[ResourceKind], Field(max_length=10)] = Field(
        default_factory=list, description='One resource of each kind is needed, e.g. ["chair"].'
    )
    staff_ids: Annotated[list[uuid.UUID], Field(max_length=200)] = Field(
        default_factory=list, description="The staff members who perform it (same business)."
    )
    active: Flag = True
    payment_overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="This service's own payment rules, within the business type's bounds: "
        "`payment_policy`, `deposit_percent`, `payment_methods`.",
        examples=[{"payment_policy": "deposit", "deposit_percent": 30}],
    )


class ServiceUpdate(PatchBody):
    NOT_NULLABLE = frozenset(
        {
            "name",
            "description",
            "price_minor",
            "required_resource_kinds",
            "staff_ids",
            "active",
            "payment_overrides",
        }
    )

    name: Name | None = None
    description: Description | None = None
    duration_options_minutes: Annotated[list[Minutes], Field(min_length=1, max_length=12)] | None = None
    price_minor: PriceMinor | None = None
    currency: Currency | None = None
    buffer_before_minutes: BufferMinutes | None = None
    buffer_after_minutes: BufferMinutes | None = None
    capacity: Capacity | None = None
    required_resource_kinds: Annotated[list[ResourceKind], Field(max_length=10)] | None = None
    staff_ids: Annotated[list[uuid.UUID], Field(max_length=200)] | None = None
    active: Flag | None = None
    payment_overrides: dict[str, Any] | None = None


class ServiceOut(_Out):
    id: uuid.UUID
    name: str
    description: str
    duration_options_minutes: list[int]
    price_minor: int
    currency: str
    buffer_before_minutes: int | None
    buffer_after_minutes: int | None
    capacity: int
    required_resource_kinds: list[str]
    staff_ids: list[uuid.UUID] = Field(default_factory=list)
    active: bool
    payment_overrides: dict[str, Any]
    created_at: dt.datetime


class StaffCreate(_In):
    display_name: Name
    user_id: uuid.UUID | None = Field(default=None, description="A member of this business to link.")
    active: Flag = True


class StaffUpdate(PatchBody):
    NOT_NULLABLE = frozenset({"display_name", "active"})

    display_name: Name | None = None
    user_id: uuid.UUID | None = Field(default=None, description="Null unlinks the user account.")
    active: Flag | None = None


class StaffOut(_Out):
    id: uuid.UUID
    display_name: str
    user_id: uuid.UUID | None
    active: bool
    created_at: dt.datetime


class ResourceCreate(_In):
    name: Name
    kind: ResourceKind
    active: Flag = True


class ResourceUpdate(PatchBody):
    NOT_NULLABLE = frozenset({"name", "kind", "active"})

    name: Name | None = None
    kind: ResourceKind | None = None
    active: Flag | None = None


class ResourceOut(_Out):
    id: uuid.UUID
    name: str
    kind: str
    active: bool
    created_at: dt.datetime


class DayInterval(_In):
    start: WallClock
    end: WallClock

    def to_span(self) -> Span:
        return Span(parse_wall_clock(self.start), parse_wall_clock(self.end))

    @classmethod
    def of(cls, span: Span) -> DayInterval:
        return cls(start=format_wall_clock(span.start), end=format_wall_clock(span.end))


class WeekdayInterval(DayInterval):
    weekday: Weekday

    def to_weekly(self) -> WeeklySpan:
        return WeeklySpan(self.weekday, self.to_span())

    @classmethod
    def of_weekly(cls, weekly: WeeklySpan) -> WeekdayInterval:
        span = weekly.span
        return cls(
            weekday=weekly.weekday, start=format_wall_clock(span.start), end=format_wall_clock(span.end)
        )


class WeeklyScheduleBody(_In):
    """A whole recurring week, in the business's time zone; PUT replaces all of it."""

    hours: Annotated[list[WeekdayInterval], Field(max_length=100)] = Field(default_factory=list)
    breaks: Annotated[list[WeekdayInterval], Field(max_length=100)] = Field(
        default_factory=list, description="Each break lies inside one working interval of its weekday."
    )

    def to_domain(self) -> WeeklySchedule:
        return WeeklySchedule([h.to_weekly() for h in self.hours], [b.to_weekly() for b in self.breaks])

    @classmethod
    def of(cls, schedule: WeeklySchedule) -> WeeklyScheduleBody:
        return cls(
            hours=[WeekdayInterval.of_weekly(h) for h in schedule.hours],
            breaks=[WeekdayInterval.of_weekly(b) for b in schedule.breaks],
        )


class TimeOffBody(_In):
    starts_at: Instant
    ends_at: Instant = Field(description="Later than starts_at.")
    reason: Reason = ""


class TimeOffOut(_Out):
    id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str
    created_at: dt.datetime


class DateOverrideBody(_In):
    """One local date: closed all day, or open only during `hours` (which replace that
    day's weekly hours and breaks)."""

    date: CalendarDate
    closed: Flag = False
    hours: Annotated[list[DayInterval], Field(max_length=24)] = Field(default_factory=list)

    def to_domain(self) -> DayOverride:
        return DayOverride(self.date, self.closed, [h.to_span() for h in self.hours])


class DateOverrideOut(BaseModel):
    id: uuid.UUID
    date: dt.date
    closed: bool
    hours: list[DayInterval]
