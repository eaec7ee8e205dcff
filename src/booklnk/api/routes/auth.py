"""Accounts and sessions: register, log in, refresh, log out, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from booklnk.api import limits
from booklnk.api.created import CreatedDep
from booklnk.api.deps import (
    ActorDep,
    DatabaseDep,
    NowDep,
    PasswordsDep,
    SessionDep,
    SettingsDep,
    client_address,
)
from booklnk.api.problems import problem_responses
from booklnk.tenancy import auth, service
from booklnk.tenancy.auth import TokenPair
from booklnk.tenancy.schemas import (
    LoginIn,
    MembershipOut,
    MeOut,
    RefreshIn,
    RegisterIn,
    TokensOut,
    UserOut,
)

router = APIRouter(prefix="/v1", tags=["auth"])


def _tokens_out(pair: TokenPair, now_ts: float) -> TokensOut:
    return TokensOut(
        access_token=pair.access_token,
        expires_in=int(pair.access_expires_at.timestamp() - now_ts),
        refresh_token=pair.refresh_token,
        refresh_expires_at=pair.refresh_expires_at,
    )


@router.post(
    "/auth/register",
    summary="Create an account",
    description="Anyone, no token needed. Returns the new user, not tokens: sign in with `login` next. An "
    "email that already has an account answers 409 `email_taken`. Rate-limited per client address: 429 "
    "`too_many_requests` with `Retry-After`.",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=problem_responses(409, 422, 429),
    dependencies=[Depends(limits.per_address("registrations"))],
)
async def register(
    body: RegisterIn, session: SessionDep, passwords: PasswordsDep, created: CreatedDep
) -> UserOut:
    user = await auth.register_user(
        session, passwords, email=str(body.email), password=body.password, full_name=body.full_name
    )
    created.at("/v1/me")  # (read with the account's own token)
    return UserOut.model_validate(user)


@router.post(
    "/auth/login",
    summary="Exchange email and password for tokens",
    description="Anyone. Returns a bearer `access_token` (valid `expires_in` seconds) and a `refresh_token` "
    "(until `refresh_expires_at`); a wrong email or password answers 401 `invalid_credentials`. After a "
    "few failures of one account from the caller's address (or many from the address, any accounts), each "
    "further attempt must wait twice as long as the last, up to a cap: 429 `login_throttled` with "
    "`Retry-After`. The right password from another address is never delayed by them. Requests are also "
    "rate-limited per client address: 429 `too_many_requests` with `Retry-After`.",
    response_model=TokensOut,
    responses=problem_responses(401, 422, 429),
    dependencies=[Depends(limits.per_address("logins"))],
)
async def login(
    body: LoginIn,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    now: NowDep,
) -> TokensOut:
    pair = await auth.login(
        db,
        settings,
        passwords,
        email=str(body.email),
        password=body.password,
        address=client_address(request),
        now=now,
    )
    return _tokens_out(pair, now.timestamp())


@router.post(
    "/auth/refresh",
    summary="Rotate a refresh token into a new token pair",
    description="Each refresh token works once. Presenting a used one revokes its whole family. An "
    "unknown, used, expired or revoked token answers 401 `invalid_token`.",
    response_model=TokensOut,
    responses=problem_responses(401, 422),
)
async def refresh(body: RefreshIn, db: DatabaseDep, settings: SettingsDep, now: NowDep) -> TokensOut:
    pair = await auth.refresh(db, settings, raw_token=body.refresh_token, now=now)
    return _tokens_out(pair, now.timestamp())


@router.post(
    "/auth/logout",
    summary="Revoke a refresh token and its family",
    description="Needs only the refresh token, no access token. Revokes it and every token rotated from it; "
    "an unknown or already revoked token is ignored, so a well-formed request always answers 204.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(422),
)
async def logout(body: RefreshIn, session: SessionDep, now: NowDep) -> None:
    await auth.logout(session, raw_token=body.refresh_token, now=now)


@router.get(
    "/me",
    summary="The signed-in user and their roles in businesses",
    description="Any signed-in user: their account, and in `memberships` each business where they hold a "
    "role (its id, name and slug, and the role). A token of a deleted account answers 401 "
    "`invalid_token`.",
    response_model=MeOut,
    responses=problem_responses(401),
)
async def me(actor: ActorDep, session: SessionDep) -> MeOut:
    user, memberships = await service.describe_user(session, actor)
    return MeOut(
        user=UserOut.model_validate(user),
        memberships=[
            MembershipOut(business_id=b.id, business_name=b.name, business_slug=b.slug, role=m.role)
            for m, b in memberships
        ],
    )
