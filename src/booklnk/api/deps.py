"""Request dependencies: settings, the unit of work, the caller, and role guards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit import log as audit
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.clock import Clock
from booklnk.kernel.errors import Forbidden, Unauthorized
from booklnk.tenancy import credentials
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.credentials import Passwords
from booklnk.tenancy.models import Role
from booklnk.tenancy.service import access_business, check_account, is_platform_admin

_bearer = HTTPBearer(auto_error=False, description="A JWT access token from POST /v1/auth/login.")


# Every dependency is `async def`, even those that never wait: FastAPI runs a plain `def`
# dependency in a worker thread, a hop that cost more than the work itself, per request.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


async def get_passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


SettingsDep = Annotated[Settings, Depends(get_settings)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]
DatabaseDep = Annotated[Database, Depends(get_db)]
NowDep = Annotated[datetime, Depends(get_now)]


async def optional_actor(
    request: Request,
    settings: SettingsDep,
    now: NowDep,
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    if token is None:
        return None
    claims = _verified_claims(token.credentials, settings.jwt_secret.get_secret_value())
    if claims is None or claims.expires_at <= now:
        raise Unauthorized("The access token is invalid or expired.", code="invalid_token")
    request.state.user_id = claims.user_id  # for the request's log line
    request.state.language = claims.language  # for problems, when the request names none
    return Actor(claims.user_id, claims.is_platform_admin)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=1024)
def _verified_claims(token: str, secret: str) -> credentials.AccessClaims | None:
    """A token's claims once its signature, audience and shape are verified (None if they
    are not), memoized: a token's content never changes, and a client sends the same one
    with every request. Expiry is NOT settled here (decoded as of the epoch): the caller
    checks `expires_at` against the clock on every request."""
    return credentials.decode_access_token(token, secret=secret, now=_EPOCH)


async def bearer_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    """The token's caller, its account not yet looked up (see `signed_in_actor`)."""
    if actor is None:
        raise Unauthorized("Sign in: this route needs a bearer access token.")
    return actor


OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
BearerActorDep = Annotated[Actor, Depends(bearer_actor)]


async def unit_of_work(db: DatabaseDep, actor: OptionalActorDep, now: NowDep) -> AsyncIterator[AsyncSession]:
    """The request's one transaction, committed when the handler returns and before the
    response is sent (scope="function"), so a failed commit can never answer 2xx."""
    user_id = actor.user_id if actor else None
    async with db.transaction(user_id=user_id) as session:
        audit.note_clock(session, now)
        yield session


SessionDep = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


async def signed_in_actor(actor: BearerActorDep, session: SessionDep) -> Actor:
    """The caller, whose account still exists (401 `invalid_token` once it is deleted).
    Business routes check this in their guard's one query instead."""
    await check_account(session, actor)
    return actor


ActorDep = Annotated[Actor, Depends(signed_in_actor)]


async def platform_admin(actor: ActorDep, session: SessionDep) -> Actor:
    # The token's claim opens the door, the account decides: a demotion takes effect at once.
    if not actor.is_platform_admin or not await is_platform_admin(session, actor):
        raise Forbidden("This route is for platform admins.", code="insufficient_role")
    return actor


AdminDep = Annotated[Actor, Depends(platform_admin)]
BusinessIdPath = Annotated[uuid.UUID, Path(description="The business (tenant) id.")]


def _business_guard(require: Role | None):  # type: ignore[no-untyped-def]  # FastAPI dependency factory
    async def guard(
        business_id: BusinessIdPath, session: SessionDep, actor: BearerActorDep
    ) -> BusinessContext:
        return await access_business(session, actor, business_id, require=require)

    return guard


# Any signed-in user acting in a business (as a customer, or with whatever role they hold).
MemberOrCustomerCtx = Annotated[BusinessContext, Depends(_business_guard(None))]
StaffCtx = Annotated[BusinessContext, Depends(_business_guard(Role.STAFF))]
OwnerCtx = Annotated[BusinessContext, Depends(_business_guard(Role.OWNER))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
