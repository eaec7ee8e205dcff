"""A business's catalog: services, staff members and resources (their schedules are in
`schedules`).

Reads of services, staff and resources are open to any signed-in user (customers choose
from them); writes are the owner's.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from booklnk.api.created import CreatedDep
from booklnk.api.deps import MemberOrCustomerCtx, OwnerCtx, SessionDep
from booklnk.api.pagination import CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.catalog import service
from booklnk.catalog.schemas import (
    ResourceCreate,
    ResourceOut,
    ResourceUpdate,
    ServiceCreate,
    ServiceOut,
    ServiceUpdate,
    StaffCreate,
    StaffOut,
    StaffUpdate,
)

router = APIRouter(prefix="/v1/businesses/{business_id}", tags=["catalog"])
READ = problem_responses(401, 403, 404)
LIST = problem_responses(401, 403, 404, 422)
WRITE = problem_responses(401, 403, 404, 422)
DELETE = problem_responses(401, 403, 404)

ServiceId = Annotated[uuid.UUID, Path(description="A service of this business.")]
StaffId = Annotated[uuid.UUID, Path(description="A staff member of this business.")]
ResourceId = Annotated[uuid.UUID, Path(description="A resource of this business.")]
IncludeInactive = Annotated[
    bool, Query(description="Also list deactivated rows (staff and owners only; ignored for customers).")
]


async def _listing(
    cursor: CursorQuery = None, limit: LimitQuery = 50, include_inactive: IncludeInactive = False
) -> service.Listing:
    return service.Listing(cursor=cursor, limit=limit, include_inactive=include_inactive)


ListingDep = Annotated[service.Listing, Depends(_listing)]
INACTIVE_LISTED = (
    "`next_cursor` opens the next page (`limit` 1-200, default 50). Deactivated rows are listed only with "
    "`include_inactive=true`, and only for staff and owners."
)


def _service_out(view: service.ServiceView) -> ServiceOut:
    return ServiceOut.model_validate(view.service).model_copy(update={"staff_ids": view.staff_ids})


def _service_spec(body: ServiceCreate) -> service.ServiceSpec:
    return service.ServiceSpec(**body.model_dump())


@router.post(
    "/services",
    summary="Add a service",
    description="Owners only (403 `insufficient_role` otherwise). Durations are distinct multiples of the "
    "business type's slot grid (the type's defaults when omitted); `capacity` is 1 for appointments and "
    "required for a class unless the type sets a default; `staff_ids` name this business's staff; "
    "`payment_overrides` set only `payment_policy`, `deposit_percent` or `payment_methods`, within the "
    "type's bounds. A 422 names each offending field; the currency is always the business's.",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceOut,
    responses=WRITE,
)
async def create_service(
    body: ServiceCreate, ctx: OwnerCtx, session: SessionDep, created: CreatedDep
) -> ServiceOut:
    view = await service.create_service(session, ctx, _service_spec(body))
    created.at_key(view.service.id)
    return _service_out(view)


@router.get(
    "/services",
    summary="List services",
    description="Any signed-in user (customers choose from them), each with its `staff_ids`; by name, "
    f"cursor-paginated. {INACTIVE_LISTED}",
    response_model=Page[ServiceOut],
    responses=LIST,
)
async def list_services(
    ctx: MemberOrCustomerCtx, session: SessionDep, listing: ListingDep
) -> Page[ServiceOut]:
    views, next_cursor = await service.list_services(session, ctx, listing)
    return Page(items=[_service_out(v) for v in views], next_cursor=next_cursor)


@router.get(
    "/services/{service_id}",
    summary="Get a service",
    description="Any signed-in user, with its `staff_ids`. A deactivated service is 404 `service_not_found` "
    "for customers; staff and owners still see it.",
    response_model=ServiceOut,
    responses=READ,
)
async def get_service(service_id: ServiceId, ctx: MemberOrCustomerCtx, session: SessionDep) -> ServiceOut:
    return _service_out(await service.get_service(session, ctx, service_id))


@router.patch(
    "/services/{service_id}",
    summary="Change a service (omitted fields stay as they are)",
    description="Owners only. The merged result is checked as a whole by the rules of adding one (a 422 "
    "names each offending field); sent `staff_ids` replace the list. 404 `service_not_found`.",
    response_model=ServiceOut,
    responses=WRITE,
)
async def update_service(
    service_id: ServiceId, body: ServiceUpdate, ctx: OwnerCtx, session: SessionDep
) -> ServiceOut:
    return _service_out(await service.update_service(session, ctx, service_id, body.changes()))


@router.delete(
    "/services/{service_id}",
    summary="Deactivate a service (kept for existing bookings; PATCH active=true restores it)",
    description="Owners only. Customers no longer see it (404 for them); staff and owners still do. "
    "404 `service_not_found`.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=DELETE,
)
async def deactivate_service(service_id: ServiceId, ctx: OwnerCtx, session: SessionDep) -> None:
    await service.deactivate_service(session, ctx, service_id)


@router.post(
    "/staff",
    summary="Add a staff member, optionally linked to a member's account",
    description="Owners only. `user_id` links the row to the account of a member of this business (422 "
    "`not_a_member` otherwise), who may then manage their own time off and calendar feed; an account "
    "already linked to another staff member answers 409 `staff_user_taken`.",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_staff(
    body: StaffCreate, ctx: OwnerCtx, session: SessionDep, created: CreatedDep
) -> StaffOut:
    staff = await service.create_staff(
        session, ctx, display_name=body.display_name, user_id=body.user_id, active=body.active
    )
    created.at_key(staff.id)
    return StaffOut.model_validate(staff)


@router.get(
    "/staff",
    summary="List staff members",
    description=f"Any signed-in user; by display name, cursor-paginated. {INACTIVE_LISTED}",
    response_model=Page[StaffOut],
    responses=LIST,
)
async def list_staff(ctx: MemberOrCustomerCtx, session: SessionDep, listing: ListingDep) -> Page[StaffOut]:
    rows, next_cursor = await service.list_staff(session, ctx, listing)
    return Page(items=[StaffOut.model_validate(s) for s in rows], next_cursor=next_cursor)


@router.get(
    "/staff/{staff_id}",
    summary="Get a staff member",
    description="Any signed-in user. A deactivated staff member is 404 `staff_not_found` for customers; "
    "staff and owners still see them.",
    response_model=StaffOut,
    responses=READ,
)
async def get_staff(staff_id: StaffId, ctx: MemberOrCustomerCtx, session: SessionDep) -> StaffOut:
    return StaffOut.model_validate(await service.get_staff(session, ctx, staff_id))


@router.patch(
    "/staff/{staff_id}",
    summary="Change a staff member (omitted fields stay as they are)",
    description="Owners only. A new `user_id` follows the rules of adding one (422 `not_a_member`, 409 "
    "`staff_user_taken`); `null` unlinks the account. 404 `staff_not_found`.",
    response_model=StaffOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_staff(staff_id: StaffId, body: StaffUpdate, ctx: OwnerCtx, session: SessionDep) -> StaffOut:
    return StaffOut.model_validate(await service.update_staff(session, ctx, staff_id, body.changes()))


@router.delete(
    "/staff/{staff_id}",
    summary="Deactivate a staff member (kept for existing bookings; PATCH active=true restores them)",
    description="Owners only. Customers no longer see them (404 for them); their service links are kept "
    "for when they come back. 404 `staff_not_found`.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=DELETE,
)
async def deactivate_staff(staff_id: StaffId, ctx: OwnerCtx, session: SessionDep) -> None:
    await service.deactivate_staff(session, ctx, staff_id)


@router.post(
    "/resources",
    summary="Add a resource (a chair, a room, equipment)",
    description="Owners only. Its `kind` is what a service names in `required_resource_kinds`.",
    status_code=status.HTTP_201_CREATED,
    response_model=ResourceOut,
    responses=WRITE,
)
async def create_resource(
    body: ResourceCreate, ctx: OwnerCtx, session: SessionDep, created: CreatedDep
) -> ResourceOut:
    resource = await service.create_resource(session, ctx, name=body.name, kind=body.kind, active=body.active)
    created.at_key(resource.id)
    return ResourceOut.model_validate(resource)


@router.get(
    "/resources",
    summary="List resources",
    description=f"Any signed-in user; by name, cursor-paginated. {INACTIVE_LISTED}",
    response_model=Page[ResourceOut],
    responses=LIST,
)
async def list_resources(
    ctx: MemberOrCustomerCtx, session: SessionDep, listing: ListingDep
) -> Page[ResourceOut]:
    rows, next_cursor = await service.list_resources(session, ctx, listing)
    return Page(items=[ResourceOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/resources/{resource_id}",
    summary="Get a resource",
    description="Any signed-in user. A deactivated resource is 404 `resource_not_found` for customers; "
    "staff and owners still see it.",
    response_model=ResourceOut,
    responses=READ,
)
async def get_resource(resource_id: ResourceId, ctx: MemberOrCustomerCtx, session: SessionDep) -> ResourceOut:
    return ResourceOut.model_validate(await service.get_resource(session, ctx, resource_id))


@router.patch(
    "/resources/{resource_id}",
    summary="Change a resource (omitted fields stay as they are)",
    description="Owners only. 404 `resource_not_found`.",
    response_model=ResourceOut,
    responses=WRITE,
)
async def update_resource(
    resource_id: ResourceId, body: ResourceUpdate, ctx: OwnerCtx, session: SessionDep
) -> ResourceOut:
    return ResourceOut.model_validate(
        await service.update_resource(session, ctx, resource_id, body.changes())
    )


@router.delete(
    "/resources/{resource_id}",
    summary="Deactivate a resource (kept for existing bookings; PATCH active=true restores it)",
    description="Owners only. Customers no longer see it (404 for them); staff and owners still do. "
    "404 `resource_not_found`.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=DELETE,
)
async def deactivate_resource(resource_id: ResourceId, ctx: OwnerCtx, session: SessionDep) -> None:
    await service.deactivate_resource(session, ctx, resource_id)
