"""Deleting an account: the person's data goes, the businesses' records of what happened
(bookings, payments, the ledger, that messages were sent) stay, pointing at an account
with nothing personal left in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit import log as audit
from booklnk.booking import listing
from booklnk.booking.errors import UpcomingBookings
from booklnk.customers import repository as customer_records
from booklnk.db.database import across_tenants, set_tenant
from booklnk.notifications import repository as messages
from booklnk.tenancy import erasure
from booklnk.tenancy import repository as tenancy
from booklnk.tenancy.context import Actor
from booklnk.tenancy.credentials import Passwords
from booklnk.tenancy.errors import AccountHasRoles


async def delete_account(
    session: AsyncSession,
    passwords: Passwords,
    actor: Actor,
    *,
    password: str | None,
    code_taken: bool = False,
    now: datetime,
) -> None:
    """With the password typed again (403 `wrong_password`), or for an account without
    one, a sign-in code taken (`code_taken`). Refused while the account
    holds a role in a business (409 `account_has_roles`: its owner removes it first) or has
    bookings still to come (409 `upcoming_bookings`: cancel them first, by the rules that
    say what is refunded). Then, in one transaction: the platform's messages to it and, in
    each business it booked at, its messages and its customer record are erased, and the
    account itself (`tenancy.erasure.erase`)."""
    await across_tenants(session)  # its roles and bookings are read in every business, then written
    user = await erasure.confirm_password(session, passwords, actor, password, code_taken=code_taken)
    if await tenancy.list_user_memberships(session, user.id):
        raise AccountHasRoles(
            "This account works at a business: ask its owner to remove it (an owner hands the business "
            "over first)."
        )
    footprint = await listing.customer_footprint(session, user.id, now=now)
    if footprint.upcoming:
        raise UpcomingBookings(
            f"This account has {footprint.upcoming} booking(s) still to come: cancel them first.",
            extra={"upcoming": footprint.upcoming},
        )
    addresses = [address for address in (user.email, user.phone) if address]
    await messages.forget_recipient(session, None, user.id, addresses)  # (no tenant entered yet)
    for business_id in footprint.business_ids:
        await set_tenant(session, business_id)
        await messages.forget_recipient(session, business_id, user.id, addresses)
        await customer_records.forget_account(session, business_id, user.id)
        await audit.record(session, business_id, user.id, "account.erased", subject=("user", user.id), at=now)
    await erasure.erase(session, user, now=now)
