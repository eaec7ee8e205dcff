"""The demo: a barbershop, a gym and a consultant in Cairo, with logins for every role.

Loading is idempotent: a business whose slug exists is left as it is, so running the demo
twice (or `serve --demo` on every start) adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.database import Database
from booklnk.demo import catalog_data
from booklnk.tenancy import repository, service
from booklnk.tenancy.context import Actor
from booklnk.tenancy.credentials import Passwords
from booklnk.tenancy.models import Membership, Role, User

DEMO_PASSWORD = "booklnk-demo-2026"


@dataclass(frozen=True, slots=True)
class Login:
    email: str
    password: str
    what: str


@dataclass(frozen=True, slots=True)
class DemoBusiness:
    name: str
    slug: str
    business_type: str
    owner_email: str
    staff: tuple[tuple[str, str], ...]  # (email, display name)


BUSINESSES = (
    DemoBusiness(
        "Cairo Cuts",
        "cairo-cuts",
        "barbershop",
        "owner@cairo-cuts.demo",
        (
            ("karim@cairo-cuts.demo", "Karim"),
            ("omar@cairo-cuts.demo", "Omar"),
            ("youssef@cairo-cuts.demo", "Youssef"),
        ),
    ),
    DemoBusiness(
        "Zamalek Fit",
        "zamalek-fit",
        "gym",
        "owner@zamalek-fit.demo",
        (("nour@zamalek-fit.demo", "Nour"), ("hana@zamalek-fit.demo", "Hana")),
    ),
    DemoBusiness(
        "Nile Advisory",
        "nile-advisory",
        "consultant",
        "owner@nile-advisory.demo",
        (("laila@nile-advisory.demo", "Laila"),),
    ),
)
ADMIN_EMAIL = "admin@booklnk.demo"
CUSTOMER_EMAIL = "customer@booklnk.demo"
# The demo customer's proven number: her booking messages go to the WhatsApp simulator.
CUSTOMER_PHONE = "+201000000001"


async def ensure_user(
    session: AsyncSession,
    passwords: Passwords,
    *,
    email: str,
    full_name: str,
    admin: bool = False,
    phone: str | None = None,
) -> User:
    """The demo account, created with the demo password if it does not exist yet (the demo
    vouches for its number: no code)."""
    user = await repository.get_user_by_email(session, email)
    if user is None:
        user = User(
            email=email,
            full_name=full_name,
            password_hash=await passwords.hash(DEMO_PASSWORD),
            is_platform_admin=admin,
            phone=phone,
        )
        session.add(user)
        await session.flush()
    return user


async def load_demo(db: Database, passwords: Passwords) -> list[Login]:
    logins = [
        Login(ADMIN_EMAIL, DEMO_PASSWORD, "platform admin"),
        Login(
            CUSTOMER_EMAIL, DEMO_PASSWORD, f"customer (phone {CUSTOMER_PHONE}: her messages go by WhatsApp)"
        ),
    ]
    async with db.transaction() as session:
        await ensure_user(session, passwords, email=ADMIN_EMAIL, full_name="Demo Admin", admin=True)
        await ensure_user(
            session, passwords, email=CUSTOMER_EMAIL, full_name="Mona Customer", phone=CUSTOMER_PHONE
        )
    for spec in BUSINESSES:
        await _load_business(db, passwords, spec)
        logins.append(Login(spec.owner_email, DEMO_PASSWORD, f"owner, {spec.name} ({spec.business_type})"))
        logins += [Login(email, DEMO_PASSWORD, f"staff, {spec.name}") for email, _ in spec.staff]
    return logins


async def _load_business(db: Database, passwords: Passwords, spec: DemoBusiness) -> None:
    async with db.transaction() as session:
        if await repository.slug_exists(session, spec.slug):
            return
        owner = await ensure_user(session, passwords, email=spec.owner_email, full_name=f"{spec.name} Owner")
        business = await service.create_business(
            session,
            Actor(owner.id),
            name=spec.name,
            slug=spec.slug,
            business_type_key=spec.business_type,
            time_zone="Africa/Cairo",
            currency="EGP",
            rule_overrides={},
        )
        staff_users = []
        for email, name in spec.staff:
            user = await ensure_user(session, passwords, email=email, full_name=name)
            session.add(Membership(business_id=business.id, user_id=user.id, role=Role.STAFF))
            staff_users.append((user, name))
        await session.flush()
        ctx = await service.access_business(session, Actor(owner.id), business.id, require=Role.OWNER)
        await catalog_data.load(session, ctx, spec.business_type, staff_users)
