"""All SQL that writes the booking aggregate's rows: bookings (with the audit of every
status they take) and allocations, of bookings and of class sessions. The one writer of
the `booking`, `booking_status_change` and `allocation` tables; the exclusion constraint
on allocations decides whether a placement goes in."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CTE, and_, bindparam, delete, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import versioned
from booklnk.booking.models import Allocation, Booking, BookingStatus, StatusChange
from booklnk.customers.repository import ACCOUNT_RECORD
from booklnk.db.errors import sqlstate, violated_constraint
from booklnk.scheduling.intervals import Interval

CREATED = "create"  # the audit's action for the status a booking is born with
DEADLOCK_DETECTED = "40P01"


@dataclass(frozen=True, slots=True)
class Placement:
    """The allocations one candidate combination needs over `blocked`: the staff member's
    lane, then one per resource (`lanes` in that order), for a booking or a class session."""

    business_id: uuid.UUID
    staff_id: uuid.UUID
    resource_ids: list[uuid.UUID]
    lanes: list[int]
    blocked: Interval
    booking_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Audit:
    """Who changes a booking's status (None: the system), and when by the app's clock."""

    actor_id: uuid.UUID | None
    at: datetime


# A placement's allocations, lane by lane in ascending order (`_placement_params` sorts
# them). ON CONFLICT makes each row a speculative insertion: a row that meets an
# overlapping one of a transaction still in progress backs out its own entry before it waits
# for that transaction, so two racers never wait for each other (a plain insert checks the
# exclusion constraint only after its entry is in the index, so two overlapping racers each
# wait for the other: a deadlock, which PostgreSQL breaks only after deadlock_timeout, 1 s,
# and a crowd on one time breaks them one at a time, a second each). A row refused by a
# committed overlap is skipped, not raised: the caller compares the rows that went in
# (RETURNING) with the lanes asked for, and rolls the attempt back when one is missing.
# Taking lanes in one order keeps two multi-lane placements from each holding a lane the
# other waits for.
_ALLOCATIONS = """
    INSERT INTO allocation (business_id, booking_id, session_id, lane, staff_id, resource_id, period, active)
    SELECT CAST(:business_id AS uuid), CAST(:booking_id AS uuid), CAST(:session_id AS uuid), a.lane,
           a.staff_id, a.resource_id, tstzrange(:blocked_start, :blocked_end), true
    FROM unnest(CAST(:lanes AS bigint[]), CAST(:staff_ids AS uuid[]), CAST(:resource_ids AS uuid[]))
         AS a(lane, staff_id, resource_id)
    ON CONFLICT ON CONSTRAINT ex_allocation_overlap DO NOTHING
    RETURNING lane
"""
_INSERT_ALLOCATIONS = text(_ALLOCATIONS)
_LOG_CREATED = """
    INSERT INTO booking_status_change (business_id, booking_id, from_status, to_status, action, actor_id,
                                       changed_at)
    VALUES (CAST(:business_id AS uuid), CAST(:booking_id AS uuid), NULL, CAST(:status AS booking_status),
            :created, CAST(:actor_id AS uuid), :changed_at)
"""
_BOOKING = """
    INSERT INTO booking (business_id, id, customer_id, guest_name, customer_record_id, service_id, staff_id,
                         session_id, status, starts_at, ends_at, hold_expires_at, payment_method, price_minor,
                         deposit_minor, currency, extra_fields, version)
    SELECT CAST(:business_id AS uuid), CAST(:booking_id AS uuid), CAST(:customer_id AS uuid), :guest_name,
           CAST(:customer_record_id AS uuid),
           CAST(:service_id AS uuid), CAST(:staff_id AS uuid), CAST(:session_id AS uuid),
           CAST(:status AS booking_status), :starts_at, :ends_at, :hold_expires_at, :payment_method,
           :price_minor, :deposit_minor, :currency, :extra_fields, :version
    RETURNING created_at, updated_at
"""
# A booking, the audit of its first status, its account's customer record (see
# customers.repository.ACCOUNT_RECORD) and (for an appointment) its allocations, in one
# statement, which answers how many of the allocations went in: when one was skipped for
# an overlap, `insert_booking` undoes the whole attempt (its savepoint).
# Every part is a CTE and the answer a SELECT over them: Citus runs each modifying CTE on
# its own before the statement that reads them (a CTE named inside another's RETURNING was
# not found there), so the foreign keys to the booking are checked at commit (migration
# 0033), not at each part's end.
_ANSWER = "SELECT booked.created_at, booked.updated_at, (SELECT id FROM record_added) AS new_record_id"
_PLACE = text(
    f"WITH placed AS ({_ALLOCATIONS}), logged AS ({_LOG_CREATED}), {ACCOUNT_RECORD}, booked AS ({_BOOKING})"
    f" {_ANSWER}, (SELECT count(*) FROM placed) AS lanes_placed FROM booked"
).bindparams(bindparam("extra_fields", type_=JSONB))
_SEAT = text(
    f"WITH logged AS ({_LOG_CREATED}), {ACCOUNT_RECORD}, booked AS ({_BOOKING}) {_ANSWER} FROM booked"
).bindparams(bindparam("extra_fields", type_=JSONB))


class LaneTaken(Exception):
    """A placement's allocation was refused (an overlapping one is in the way): raised
    inside the attempt's savepoint so that everything the attempt wrote is undone."""


def _placement_params(placement: Placement) -> dict[str, object]:
    # Each lane with its owner (the staff member or a resource), in ascending lane order.
    owners = [(placement.staff_id, None), *((None, resource_id) for resource_id in placement.resource_ids)]
    rows = sorted(zip(placement.lanes, owners, strict=True), key=lambda row: row[0])
    return {
        "business_id": placement.business_id,
        "booking_id": placement.booking_id,
        "session_id": placement.session_id,
        "lanes": [lane for lane, _ in rows],
        "staff_ids": [staff_id for _, (staff_id, _) in rows],
        "resource_ids": [resource_id for _, (_, resource_id) in rows],
        "blocked_start": placement.blocked.start,
        "blocked_end": placement.blocked.end,
    }


def _all_placed(placement: Placement, lanes_placed: int) -> None:
    if lanes_placed != len(placement.lanes):
        raise LaneTaken(f"{len(placement.lanes) - lanes_placed} of the placement's lanes are taken")


def _booking_params(booking: Booking, audit: Audit) -> dict[str, object]:
    return {
        "business_id": booking.business_id,
        "booking_id": booking.id,
        "customer_id": booking.customer_id,
        "guest_name": booking.guest_name,
        "customer_record_id": booking.customer_record_id,
        "new_record_id": uuid.uuid4(),
        "service_id": booking.service_id,
        "staff_id": booking.staff_id,
        "session_id": booking.session_id,
        "status": booking.status.value,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "hold_expires_at": booking.hold_expires_at,
        "payment_method": booking.payment_method,
        "price_minor": booking.price_minor,
        "deposit_minor": booking.deposit_minor,
        "currency": booking.currency,
        "extra_fields": booking.extra_fields,
        "version": booking.version,
        "created": CREATED,
        "actor_id": audit.actor_id,
        "changed_at": audit.at,
    }


async def insert_booking(
    session: AsyncSession, booking: Booking, placement: Placement, audit: Audit
) -> uuid.UUID | None:
    """Write `booking` (not added to the session) with its allocations, in one statement
    (run it through `placed`). Its staff member and the row's timestamps are set on it.
    Answers the id of the customer record its account's first booking here made, if any."""
    booking.staff_id = placement.staff_id
    params = {**_booking_params(booking, audit), **_placement_params(placement)}
    row = (await session.execute(_PLACE, params)).one()
    _all_placed(placement, row.lanes_placed)
    booking.created_at, booking.updated_at = row.created_at, row.updated_at
    return cast("uuid.UUID | None", row.new_record_id)


async def insert_seat(session: AsyncSession, booking: Booking, audit: Audit) -> uuid.UUID | None:
    """Write a class seat's booking (its seat is the session's counter, not allocations);
    answers as `insert_booking` does."""
    params = _booking_params(booking, audit)
    row = (await session.execute(_SEAT, params)).one()
    booking.created_at, booking.updated_at = row.created_at, row.updated_at
    return cast("uuid.UUID | None", row.new_record_id)


async def get_booking(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, *, for_update: bool = False
) -> Booking | None:
    stmt = select(Booking).where(Booking.business_id == business_id, Booking.id == booking_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


# --- status changes: compare-and-swap on the version, and the audit, in one statement ---


async def change_status(
    session: AsyncSession,
    booking: Booking,
    to: BookingStatus,
    action: str,
    audit: Audit,
) -> int | None:
    """Move `booking` to `to` if it is still at the version it was read at, recording the
    change; the new version, or None when someone else changed it first."""
    changed = (
        versioned.swap(Booking, booking, {"status": to})
        .returning(Booking.business_id, Booking.id, Booking.version)
        .cte("changed")
    )
    logged = _logged(changed, literal(booking.status, StatusChange.from_status.type), to, action, audit)
    stmt = select(changed.c.version).add_cte(logged)
    version: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return version


def _logged(changed: CTE, from_status: Any, to: BookingStatus, action: str, audit: Audit) -> CTE:
    """The audit rows of the bookings an UPDATE … RETURNING business_id, id (`changed`)
    moved to `to` from `from_status`: written by the same statement. RETURNING, which no
    one reads, because Citus would copy the rows in instead (COPY), which row-level
    security refuses; with it, it inserts them."""
    return (
        insert(StatusChange)
        .from_select(
            ["business_id", "booking_id", "from_status", "to_status", "action", "actor_id", "changed_at"],
            select(
                changed.c.business_id,
                changed.c.id,
                from_status,
                literal(to, StatusChange.to_status.type),
                literal(action),
                literal(audit.actor_id, StatusChange.actor_id.type),
                literal(audit.at, StatusChange.changed_at.type),
            ),
        )
        .returning(StatusChange.id)
        .cte("logged")
    )


@dataclass(frozen=True, slots=True)
class Changed:
    booking_id: uuid.UUID
    session_id: uuid.UUID | None


async def change_statuses(
    session: AsyncSession,
    business_id: uuid.UUID,
    *,
    session_ids: Collection[uuid.UUID] = (),
    booking_ids: Collection[uuid.UUID] = (),
    sources: Collection[BookingStatus],
    to: BookingStatus,
    action: str,
    audit: Audit,
) -> list[Changed]:
    """Move every booking of these sessions (or these bookings) whose status is one of
    `sources` to `to`, each recorded in the audit with the status it left."""
    target = select(Booking.business_id, Booking.id, Booking.status).where(
        Booking.business_id == business_id, Booking.status.in_(sorted(sources))
    )
    if session_ids:
        target = target.where(Booking.session_id.in_(list(session_ids)))
    else:
        target = target.where(Booking.id.in_(list(booking_ids)))
    old = target.with_for_update().cte("old")
    # The business as a value, not through `old`: Citus sends the UPDATE to the tenant's
    # shard only when it sees the distribution column's value; joined through the CTE it
    # went to every shard, after which the outbox (the coordinator's) could not be written.
    changed = (
        update(Booking)
        .where(Booking.business_id == business_id, Booking.id == old.c.id)
        .values(status=to, version=Booking.version + 1, updated_at=func.now())
        .returning(Booking.business_id, Booking.id, Booking.session_id, old.c.status)
        .cte("changed")
    )
    logged = _logged(changed, changed.c.status, to, action, audit)
    stmt = select(changed.c.id, changed.c.session_id).add_cte(logged)
    return [Changed(booking_id, session_id) for booking_id, session_id in await session.execute(stmt)]


async def last_change(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID
) -> StatusChange | None:
    """The booking's latest status change (what an undo would take back)."""
    stmt = (
        select(StatusChange)
        .where(StatusChange.business_id == business_id, StatusChange.booking_id == booking_id)
        .order_by(StatusChange.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


# --- other versioned changes of a booking (no status change) -----------------------


async def swap(session: AsyncSession, booking: Booking, **values: Any) -> int | None:
    """Write `values` if the booking is still at the version it was read at."""
    return await versioned.compare_and_swap(session, Booking, booking, values)


async def note_reason(session: AsyncSession, booking: Booking, reason: str) -> None:
    """Say on the booking why it stands as it does (bumps its version: clients re-read)."""
    await session.execute(
        update(Booking)
        .where(Booking.business_id == booking.business_id, Booking.id == booking.id)
        .values(status_reason=reason, version=Booking.version + 1, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def move_session_bookings(
    session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID, span: Interval
) -> list[uuid.UUID]:
    """A moved class session's seats take its new time (each a new version); their ids."""
    moved = await session.execute(
        update(Booking)
        .where(Booking.business_id == business_id, Booking.session_id == session_id)
        .values(starts_at=span.start, ends_at=span.end, version=Booking.version + 1, updated_at=func.now())
        .returning(Booking.id)
    )
    return list(moved.scalars())


# --- allocations ------------------------------------------------------------------------


async def insert_allocations(session: AsyncSession, placement: Placement) -> None:
    """An existing booking's allocations (a move; run it through `placed`)."""
    inserted = await session.execute(_INSERT_ALLOCATIONS, _placement_params(placement))
    _all_placed(placement, len(inserted.all()))


@dataclass(frozen=True, slots=True)
class SessionLane:
    """One allocation of a class session: its instructor's lane or one room's."""

    session_id: uuid.UUID
    lane: int
    staff_id: uuid.UUID | None
    resource_id: uuid.UUID | None
    period: Interval


# As a booking's (`_ALLOCATIONS`): a row refused by an overlap is skipped and counted, not
# raised. Citus also needs the ON CONFLICT: without it, it turns an INSERT … SELECT into a
# COPY, which row-level security refuses.
_SESSION_ALLOCATIONS = text(
    """
    INSERT INTO allocation (business_id, session_id, lane, staff_id, resource_id, period, active)
    SELECT CAST(:business_id AS uuid), a.session_id, a.lane, a.staff_id, a.resource_id,
           tstzrange(a.starts_at, a.ends_at), true
    FROM unnest(CAST(:session_ids AS uuid[]), CAST(:lanes AS bigint[]), CAST(:staff_ids AS uuid[]),
                CAST(:resource_ids AS uuid[]), CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]))
         AS a(session_id, lane, staff_id, resource_id, starts_at, ends_at)
    ON CONFLICT ON CONSTRAINT ex_allocation_overlap DO NOTHING
    RETURNING lane
    """
)


async def insert_session_allocations(
    session: AsyncSession, business_id: uuid.UUID, lanes: Sequence[SessionLane]
) -> None:
    """Class sessions' allocations, all in one statement (run it through `placed`)."""
    inserted = await session.execute(
        _SESSION_ALLOCATIONS,
        {
            "business_id": business_id,
            "session_ids": [a.session_id for a in lanes],
            "lanes": [a.lane for a in lanes],
            "staff_ids": [a.staff_id for a in lanes],
            "resource_ids": [a.resource_id for a in lanes],
            "starts": [a.period.start for a in lanes],
            "ends": [a.period.end for a in lanes],
        },
    )
    skipped = len(lanes) - len(inserted.all())
    if skipped:
        raise LaneTaken(f"{skipped} of the sessions' lanes are taken")


def _holder(business_id: uuid.UUID, booking_id: uuid.UUID | None, session_id: uuid.UUID | None) -> Any:
    if booking_id is not None:
        return and_(Allocation.business_id == business_id, Allocation.booking_id == booking_id)
    return and_(Allocation.business_id == business_id, Allocation.session_id == session_id)


async def set_allocations_active(
    session: AsyncSession,
    business_id: uuid.UUID,
    active: bool,
    *,
    booking_ids: Collection[uuid.UUID] = (),
    session_ids: Collection[uuid.UUID] = (),
) -> None:
    """Free (or block again: run it through `placed`) the time of these bookings or sessions."""
    if booking_ids:
        held_by = Allocation.booking_id.in_(list(booking_ids))
    elif session_ids:
        held_by = Allocation.session_id.in_(list(session_ids))
    else:
        return
    await session.execute(
        update(Allocation).where(Allocation.business_id == business_id, held_by).values(active=active)
    )


async def delete_allocations(
    session: AsyncSession,
    business_id: uuid.UUID,
    *,
    booking_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
) -> None:
    """A booking's or session's allocations go (it is about to be placed anew)."""
    await session.execute(delete(Allocation).where(_holder(business_id, booking_id, session_id)))


_SAVEPOINT = text("SAVEPOINT placement")
_BACK_TO_SAVEPOINT = text("ROLLBACK TO SAVEPOINT placement")


class Placing:
    """`placed` for a series of attempts (a booking's candidates), one round trip cheaper
    per attempt: one savepoint, set before the first; a lost attempt goes back to it and the
    next runs under it again; the attempt that goes in keeps it, unreleased (it ends with
    the transaction: a RELEASE would be one more round trip for nothing)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._set = False

    async def placed(self, write: Callable[[], Awaitable[object]]) -> bool:
        if not self._set:
            await self._session.execute(_SAVEPOINT)
            self._set = True
        if await _attempt(write):
            return True
        await self._session.execute(_BACK_TO_SAVEPOINT)
        return False


async def _attempt(write: Callable[[], Awaitable[object]]) -> bool:
    """Run `write`: False when it lost to a concurrent booking (see `placed`), leaving the
    transaction for its savepoint to undo."""
    try:
        await write()
    except LaneTaken:
        return False
    except IntegrityError as exc:
        if violated_constraint(exc) != "ex_allocation_overlap":
            raise
        return False
    except DBAPIError as exc:
        if sqlstate(exc) != DEADLOCK_DETECTED:
            raise
        return False
    return True


async def placed(session: AsyncSession, write: Callable[[], Awaitable[object]]) -> bool:
    """Run `write` in a savepoint: True if it went in, False when it lost the time to a
    concurrent booking, leaving nothing written and the transaction usable.
    Losing is an allocation skipped for an overlap (LaneTaken: a booking's or a move's), the
    exclusion constraint refusing one (class sessions, a hold blocked again), or a deadlock:
    transactions changing allocations that overlap can still wait for each other (one that
    has just released a lapsed hold holds its rows), and PostgreSQL cancels one of them."""
    try:
        async with session.begin_nested():
            if not await _attempt(write):
                raise _Lost
    except _Lost:
        return False
    return True


class _Lost(Exception):
    """Leaves `placed`'s savepoint rolling it back."""
