"""What a class session takes: its instructor and the rooms (resources) its service
requires, as allocations under the exclusion constraint appointments use. Two classes
in one room (or with one instructor) at one time are impossible, and the answer names
what is taken."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import calendars, occupancy, repository
from booklnk.booking.classes import repository as classes
from booklnk.booking.classes.errors import InstructorBusy, ResourceBusy
from booklnk.booking.classes.models import ClassSession
from booklnk.booking.repository import SessionLane
from booklnk.catalog import repository as catalog
from booklnk.catalog.errors import StaffNotFound
from booklnk.catalog.models import Resource, Service, StaffMember
from booklnk.kernel.errors import BooklnkError, ValidationFailed
from booklnk.scheduling.intervals import Interval


@dataclass(frozen=True, slots=True)
class Crew:
    """The instructor and the rooms a session takes (one resource per required kind)."""

    staff: StaffMember
    resources: tuple[Resource, ...]

    @property
    def resource_ids(self) -> list[uuid.UUID]:
        return [r.id for r in self.resources]

    def lanes(self, session_id: uuid.UUID, period: Interval) -> list[SessionLane]:
        return [
            SessionLane(session_id, self.staff.lane, self.staff.id, None, period),
            *(SessionLane(session_id, r.lane, None, r.id, period) for r in self.resources),
        ]


async def crew_for(
    session: AsyncSession,
    business_id: uuid.UUID,
    service: Service,
    staff_id: uuid.UUID,
    resource_ids: Sequence[uuid.UUID] | None,
    *,
    field: str = "body.resource_ids",
) -> Crew:
    """The instructor (active, else 404) and one active resource per kind the service
    requires: the ones named, or, when none is named for a kind, the only one of that
    kind (a 422 asks to choose when there are several, or says there is none)."""
    staff = await catalog.get_staff(session, business_id, staff_id)
    if staff is None or not staff.active:
        raise StaffNotFound("No such active staff member.")
    kinds = list(service.required_resource_kinds)
    available = await calendars.resources_of_kinds(session, business_id, kinds)
    by_id = {r.id: r for r in available}
    named = list(resource_ids or [])
    unknown = [str(r) for r in named if r not in by_id]
    if unknown:
        raise ValidationFailed.on(
            field, "unknown_resource", f"No active resource of a kind it needs: {unknown}."
        )
    chosen: list[Resource] = []
    for kind in kinds:
        picked = [by_id[r] for r in named if by_id[r].kind == kind]
        of_kind = [r for r in available if r.kind == kind]
        if len(picked) > 1:
            raise ValidationFailed.on(field, "one_per_kind", f"Name one {kind}, not {len(picked)}.")
        if not picked and len(of_kind) != 1:
            rule, message = (
                ("resource_required", f"Choose which {kind} it takes (the business has {len(of_kind)}).")
                if of_kind
                else ("no_resource_of_kind", f"The service needs a {kind}; the business has none.")
            )
            raise ValidationFailed.on(field, rule, message)
        chosen.append(picked[0] if picked else of_kind[0])
    return Crew(staff, tuple(chosen))


async def crew_of(session: AsyncSession, current: ClassSession) -> Crew:
    """The crew a stored session has now (its instructor, and the rooms it holds)."""
    staff = await catalog.get_staff(session, current.business_id, current.staff_id)
    assert staff is not None  # the session's foreign key
    held = (await occupancy.session_resources(session, current.business_id, [current.id])).get(current.id, [])
    resources = [await catalog.get_resource(session, current.business_id, r) for r in held]
    return Crew(staff, tuple(r for r in resources if r is not None))


async def allocate(session: AsyncSession, sessions: Sequence[ClassSession], crew: Crew) -> None:
    """Block the crew's time for every session, all or nothing: 409 naming what is taken."""
    if not sessions:
        return
    business_id = sessions[0].business_id
    lanes = [lane for s in sessions for lane in crew.lanes(s.id, Interval(s.starts_at, s.ends_at))]

    async def write() -> None:
        await repository.insert_session_allocations(session, business_id, lanes)

    if not await repository.placed(session, write):
        raise await _taken(session, business_id, crew, [Interval(s.starts_at, s.ends_at) for s in sessions])


async def place_each(session: AsyncSession, rows: Sequence[ClassSession], crew: Crew) -> list[ClassSession]:
    """Write each new session with its crew's allocations, one at a time: a session whose
    instructor or room is taken then is not written at all. Returns those left out (the
    daily extension logs them and goes on, never failing the others)."""
    refused = []
    for row in rows:
        lanes = crew.lanes(row.id, Interval(row.starts_at, row.ends_at))

        async def write(row: ClassSession = row, lanes: list[SessionLane] = lanes) -> None:
            await classes.add_sessions(session, [row])
            await repository.insert_session_allocations(session, row.business_id, lanes)

        if not await repository.placed(session, write):
            refused.append(row)
    return refused


async def reallocate(session: AsyncSession, current: ClassSession, span: Interval, crew: Crew) -> None:
    """The session's allocations anew (a new time, instructor or room): 409 naming what
    is taken; the caller's rollback then restores the old ones."""
    await repository.delete_allocations(session, current.business_id, session_id=current.id)

    async def write() -> None:
        await repository.insert_session_allocations(
            session, current.business_id, crew.lanes(current.id, span)
        )

    if not await repository.placed(session, write):
        raise await _taken(session, current.business_id, crew, [span])


async def release(session: AsyncSession, business_id: uuid.UUID, session_ids: Sequence[uuid.UUID]) -> None:
    """Cancelled sessions block nothing any more."""
    await repository.set_allocations_active(session, business_id, False, session_ids=session_ids)


async def _taken(
    session: AsyncSession, business_id: uuid.UUID, crew: Crew, spans: Sequence[Interval]
) -> BooklnkError:
    """The 409 that names the first room or instructor already taken in one of `spans`."""
    lanes = [crew.staff.lane, *(r.lane for r in crew.resources)]
    for span in spans:
        busy = await occupancy.busy_lanes(session, business_id, lanes, span)
        for resource in crew.resources:
            if resource.lane in busy:
                return ResourceBusy(
                    f"{resource.name} is taken at {span.start.isoformat()}.",
                    extra={"resource_id": str(resource.id), "starts_at": span.start.isoformat()},
                )
        if crew.staff.lane in busy:
            return _instructor_busy(crew.staff, span)
    return InstructorBusy("The sessions overlap each other.")


def _instructor_busy(staff: StaffMember, span: Interval) -> InstructorBusy:
    return InstructorBusy(
        f"{staff.display_name} already teaches at {span.start.isoformat()}.",
        extra={"staff_id": str(staff.id), "starts_at": span.start.isoformat()},
    )
