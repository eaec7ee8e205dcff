"""Use cases for services, staff members and resources.

Nothing is ever hard-deleted: "delete" deactivates, so future bookings and history keep
pointing at a real row; an owner may reactivate with PATCH `active: true`. Customers see
active rows only; staff and owners may ask for inactive ones too.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit import log as audit
from booklnk.business_types.definition import EffectiveRules
from booklnk.catalog import repository
from booklnk.catalog.errors import ResourceNotFound, ServiceNotFound, StaffNotFound, StaffUserTaken
from booklnk.catalog.models import Resource, Service, StaffMember
from booklnk.catalog.schedule_rules import check_durations
from booklnk.kernel.errors import FieldIssue, ValidationFailed
from booklnk.tenancy import repository as tenancy_repository
from booklnk.tenancy import service as tenancy
from booklnk.tenancy.context import BusinessContext


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """What an owner asks for; None means "the default" (type rules, business currency)."""

    name: str
    price_minor: int
    description: str = ""
    duration_options_minutes: Sequence[int] | None = None
    currency: str | None = None
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None
    capacity: int | None = None
    required_resource_kinds: Sequence[str] = ()
    staff_ids: Sequence[uuid.UUID] = ()
    active: bool = True
    payment_overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceView:
    service: Service
    staff_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Listing:
    """A page request: `include_inactive` is honoured for staff and owners only."""

    cursor: str | None = None
    limit: int = 50
    include_inactive: bool = False

    def active_only(self, ctx: BusinessContext) -> bool:
        return not (self.include_inactive and ctx.is_staff)


def _visible(ctx: BusinessContext, active: bool) -> bool:
    return active or ctx.is_staff


async def list_services(
    session: AsyncSession, ctx: BusinessContext, listing: Listing
) -> tuple[list[ServiceView], str | None]:
    rows, next_cursor = await repository.services_page(
        session,
        ctx.business_id,
        active_only=listing.active_only(ctx),
        cursor=listing.cursor,
        limit=listing.limit,
    )
    staff = await repository.staff_ids_by_service(session, ctx.business_id, [s.id for s in rows])
    return [ServiceView(s, staff.get(s.id, [])) for s in rows], next_cursor


async def list_bookable_services(
    session: AsyncSession, ctx: BusinessContext, *, cursor: str | None, limit: int
) -> tuple[list[ServiceView], str | None]:
    """What a customer can book: active services, each with its active staff only (a
    deactivated staff member keeps their service links, for when they come back)."""
    rows, next_cursor = await repository.services_page(
        session, ctx.business_id, active_only=True, cursor=cursor, limit=limit
    )
    staff = await repository.staff_ids_by_service(session, ctx.business_id, [s.id for s in rows])
    linked = {staff_id for ids in staff.values() for staff_id in ids}
    active = await repository.active_staff_ids(session, ctx.business_id, linked) if linked else set()
    views = [ServiceView(s, [i for i in staff.get(s.id, []) if i in active]) for s in rows]
    return views, next_cursor


async def get_service(session: AsyncSession, ctx: BusinessContext, service_id: uuid.UUID) -> ServiceView:
    service = await _require_service(session, ctx, service_id)
    staff = await repository.staff_ids_by_service(session, ctx.business_id, [service.id])
    return ServiceView(service, staff.get(service.id, []))


async def create_service(session: AsyncSession, ctx: BusinessContext, spec: ServiceSpec) -> ServiceView:
    service = Service(business_id=ctx.business_id, id=uuid.uuid4())
    await _apply(session, ctx, service, spec)
    session.add(service)
    await session.flush()
    await repository.set_service_staff(session, ctx.business_id, service.id, spec.staff_ids)
    await _audit(session, ctx, "service.created", ("service", service.id), {"name": service.name})
    return ServiceView(service, list(spec.staff_ids))


async def update_service(
    session: AsyncSession, ctx: BusinessContext, service_id: uuid.UUID, changes: Mapping[str, Any]
) -> ServiceView:
    """Apply the fields a PATCH sent; the merged result is checked as a whole."""
    current = await get_service(session, ctx, service_id)
    spec = replace(_spec_of(current), **changes)
    await _apply(session, ctx, current.service, spec)
    await session.flush()
    await repository.set_service_staff(session, ctx.business_id, service_id, spec.staff_ids)
    await _audit(session, ctx, "service.updated", ("service", service_id), changes)
    return ServiceView(current.service, list(spec.staff_ids))


async def deactivate_service(session: AsyncSession, ctx: BusinessContext, service_id: uuid.UUID) -> None:
    service = await _require_service(session, ctx, service_id)
    service.active = False
    await session.flush()
    await _audit(session, ctx, "service.deactivated", ("service", service_id))


async def _require_service(session: AsyncSession, ctx: BusinessContext, service_id: uuid.UUID) -> Service:
    service = await repository.get_service(session, ctx.business_id, service_id)
    if service is None or not _visible(ctx, service.active):
        raise ServiceNotFound("No such service.")
    return service


def _spec_of(view: ServiceView) -> ServiceSpec:
    s = view.service
    return ServiceSpec(
        name=s.name,
        price_minor=s.price_minor,
        description=s.description,
        duration_options_minutes=s.duration_options_minutes,
        currency=s.currency,
        buffer_before_minutes=s.buffer_before_minutes,
        buffer_after_minutes=s.buffer_after_minutes,
        capacity=s.capacity,
        required_resource_kinds=s.required_resource_kinds,
        staff_ids=view.staff_ids,
        active=s.active,
        payment_overrides=s.payment_overrides,
    )


async def _apply(session: AsyncSession, ctx: BusinessContext, service: Service, spec: ServiceSpec) -> None:
    """Check `spec` against the business's rules and write it, defaults resolved, onto `service`."""
    rules = await _rules_with(session, ctx, spec.payment_overrides)
    business = await tenancy.get_business(session, ctx.business_id)
    known = await repository.existing_staff_ids(session, ctx.business_id, spec.staff_ids)
    durations = list(spec.duration_options_minutes or rules.default_durations_minutes)
    issues = check_service(
        spec, rules=rules, durations=durations, currency=business.currency, known_staff=known
    )
    if issues:
        raise ValidationFailed("The service is invalid.", issues=issues)
    service.name, service.description, service.price_minor = spec.name, spec.description, spec.price_minor
    service.duration_options_minutes = durations
    service.currency = business.currency
    service.buffer_before_minutes = spec.buffer_before_minutes
    service.buffer_after_minutes = spec.buffer_after_minutes
    service.capacity = 1 if rules.mode == "appointment" else (spec.capacity or rules.default_capacity or 1)
    service.required_resource_kinds = list(spec.required_resource_kinds)
    service.payment_overrides = dict(spec.payment_overrides)
    service.active = spec.active


PAYMENT_RULES = frozenset({"payment_policy", "deposit_percent", "payment_methods"})


async def _rules_with(
    session: AsyncSession, ctx: BusinessContext, overrides: Mapping[str, Any]
) -> EffectiveRules:
    """The business's rules with the service's payment overrides, each checked against the
    type's bounds exactly as the business's own are (a 422 names the override)."""
    issues = [
        FieldIssue(
            f"body.payment_overrides.{name}", "not_a_payment_rule", f"Choose among {sorted(PAYMENT_RULES)}."
        )
        for name in overrides
        if name not in PAYMENT_RULES
    ]
    if issues:
        raise ValidationFailed("The service's payment overrides are invalid.", issues=issues)
    try:
        return ctx.rules_for(overrides)
    except ValidationFailed as exc:
        renamed = [
            replace(i, field=i.field.replace("rules.", "body.payment_overrides.", 1)) for i in exc.issues
        ]
        raise ValidationFailed("The service's payment overrides are invalid.", issues=renamed) from None


def check_service(
    spec: ServiceSpec,
    *,
    rules: EffectiveRules,
    durations: Sequence[int],
    currency: str,
    known_staff: set[uuid.UUID],
) -> list[FieldIssue]:
    """Every rule a service breaks, each at its field. Pure."""
    issues = check_durations(durations, grid_minutes=rules.slot_grid_minutes)
    if spec.currency is not None and spec.currency != currency:
        issues.append(
            FieldIssue("body.currency", "currency_mismatch", f"This business charges in {currency}.")
        )
    if rules.mode == "appointment" and spec.capacity not in (None, 1):
        msg = "An appointment serves one customer at a time: omit capacity or set it to 1."
        issues.append(FieldIssue("body.capacity", "capacity_not_applicable", msg))
    if rules.mode == "class" and spec.capacity is None and rules.default_capacity is None:
        issues.append(FieldIssue("body.capacity", "required", "A class needs a capacity."))
    issues += _duplicates(spec.required_resource_kinds, "body.required_resource_kinds")
    issues += _duplicates(spec.staff_ids, "body.staff_ids")
    issues += [
        FieldIssue(f"body.staff_ids.{i}", "unknown_staff", f"No staff member {staff_id} in this business.")
        for i, staff_id in enumerate(spec.staff_ids)
        if staff_id not in known_staff
    ]
    return issues


def _duplicates(values: Sequence[object], field_name: str) -> list[FieldIssue]:
    return [
        FieldIssue(f"{field_name}.{i}", "duplicate", "This value is listed twice.")
        for i, value in enumerate(values)
        if value in values[:i]
    ]


async def list_staff(
    session: AsyncSession, ctx: BusinessContext, listing: Listing
) -> tuple[list[StaffMember], str | None]:
    return await repository.staff_page(
        session,
        ctx.business_id,
        active_only=listing.active_only(ctx),
        cursor=listing.cursor,
        limit=listing.limit,
    )


async def get_staff(session: AsyncSession, ctx: BusinessContext, staff_id: uuid.UUID) -> StaffMember:
    staff = await repository.get_staff(session, ctx.business_id, staff_id)
    if staff is None or not _visible(ctx, staff.active):
        raise StaffNotFound("No such staff member.")
    return staff


async def create_staff(
    session: AsyncSession, ctx: BusinessContext, *, display_name: str, user_id: uuid.UUID | None, active: bool
) -> StaffMember:
    await _check_linkable(session, ctx, user_id, staff_id=None)
    staff = StaffMember(
        business_id=ctx.business_id,
        id=uuid.uuid4(),
        display_name=display_name,
        user_id=user_id,
        active=active,
    )
    session.add(staff)
    await _flush_staff(session)
    details = {"display_name": display_name, "user_id": user_id}
    await _audit(session, ctx, "staff.created", ("staff", staff.id), details)
    return staff


async def update_staff(
    session: AsyncSession, ctx: BusinessContext, staff_id: uuid.UUID, changes: Mapping[str, Any]
) -> StaffMember:
    staff = await get_staff(session, ctx, staff_id)
    if "user_id" in changes:
        await _check_linkable(session, ctx, changes["user_id"], staff_id=staff.id)
    for name in ("display_name", "user_id", "active"):
        if name in changes:
            setattr(staff, name, changes[name])
    await _flush_staff(session)
    await _audit(session, ctx, "staff.updated", ("staff", staff_id), changes)
    return staff


async def deactivate_staff(session: AsyncSession, ctx: BusinessContext, staff_id: uuid.UUID) -> None:
    staff = await get_staff(session, ctx, staff_id)
    staff.active = False
    await session.flush()
    await _audit(session, ctx, "staff.deactivated", ("staff", staff_id))


async def unlink_account(session: AsyncSession, ctx: BusinessContext, user_id: uuid.UUID) -> None:
    """The staff member linked to this account, if any, kept but linked to none: its
    member is leaving the business (`flows.team.remove_member`)."""
    staff = await repository.get_staff_by_user(session, ctx.business_id, user_id)
    if staff is not None:
        staff.user_id = None
        await session.flush()


async def _check_linkable(
    session: AsyncSession, ctx: BusinessContext, user_id: uuid.UUID | None, *, staff_id: uuid.UUID | None
) -> None:
    """A linked account must belong to a member of this business and to no other staff row."""
    if user_id is None:
        return
    if await tenancy_repository.get_membership(session, ctx.business_id, user_id) is None:
        raise ValidationFailed.on(
            "body.user_id", "not_a_member", "This user is not a member of the business."
        )
    linked = await repository.get_staff_by_user(session, ctx.business_id, user_id)
    if linked is not None and linked.id != staff_id:
        raise StaffUserTaken("This user is already linked to another staff member.")


async def _flush_staff(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request linked the same user first
        raise StaffUserTaken("This user is already linked to another staff member.") from exc


async def list_resources(
    session: AsyncSession, ctx: BusinessContext, listing: Listing
) -> tuple[list[Resource], str | None]:
    return await repository.resources_page(
        session,
        ctx.business_id,
        active_only=listing.active_only(ctx),
        cursor=listing.cursor,
        limit=listing.limit,
    )


async def get_resource(session: AsyncSession, ctx: BusinessContext, resource_id: uuid.UUID) -> Resource:
    resource = await repository.get_resource(session, ctx.business_id, resource_id)
    if resource is None or not _visible(ctx, resource.active):
        raise ResourceNotFound("No such resource.")
    return resource


async def create_resource(
    session: AsyncSession, ctx: BusinessContext, *, name: str, kind: str, active: bool
) -> Resource:
    resource = Resource(business_id=ctx.business_id, id=uuid.uuid4(), name=name, kind=kind, active=active)
    session.add(resource)
    await session.flush()
    await _audit(session, ctx, "resource.created", ("resource", resource.id), {"name": name, "kind": kind})
    return resource


async def update_resource(
    session: AsyncSession, ctx: BusinessContext, resource_id: uuid.UUID, changes: Mapping[str, Any]
) -> Resource:
    resource = await get_resource(session, ctx, resource_id)
    for name in ("name", "kind", "active"):
        if name in changes:
            setattr(resource, name, changes[name])
    await session.flush()
    await _audit(session, ctx, "resource.updated", ("resource", resource_id), changes)
    return resource


async def deactivate_resource(session: AsyncSession, ctx: BusinessContext, resource_id: uuid.UUID) -> None:
    resource = await get_resource(session, ctx, resource_id)
    resource.active = False
    await session.flush()
    await _audit(session, ctx, "resource.deactivated", ("resource", resource_id))


async def _audit(
    session: AsyncSession,
    ctx: BusinessContext,
    action: str,
    subject: tuple[str, uuid.UUID],
    details: Mapping[str, Any] | None = None,
) -> None:
    await audit.record(session, ctx.business_id, ctx.actor.user_id, action, subject=subject, details=details)
