"""Accounts and sessions: register (by a code sent to the e-mail or the mobile number),
password reset, log in, refresh, log out (here or everywhere), who am I, profile and
password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, status

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
from booklnk.api.languages import caller_language
from booklnk.api.problems import problem_responses
from booklnk.flows import accounts as account_flows
from booklnk.notifications.models import Channel
from booklnk.tenancy import accounts, auth, codes, phone_sign_up, service
from booklnk.tenancy.auth import TokenPair
from booklnk.tenancy.schemas import (
    AccountDeletionIn,
    CodeSentOut,
    CodeSentToOut,
    LoginIn,
    MembershipOut,
    MeOut,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    PhoneCodeIn,
    PhoneVerifyIn,
    ProfileIn,
    RefreshIn,
    RegisterIn,
    SignInCodeIn,
    SignInVerifyIn,
    TokensOut,
    UserOut,
    VerifyRegistrationIn,
)

router = APIRouter(prefix="/v1", tags=["auth"])


def _tokens_out(pair: TokenPair, now_ts: float) -> TokensOut:
    return TokensOut(
        access_token=pair.access_token,
        expires_in=int(pair.access_expires_at.timestamp() - now_ts),
        refresh_token=pair.refresh_token,
        refresh_expires_at=pair.refresh_expires_at,
    )


_REGISTER_EXAMPLES: dict[str, Any] = {
    "phone": {
        "summary": "By mobile number (the code goes by WhatsApp, falling back on SMS)",
        "value": {"phone": "01001234567", "channel": "whatsapp", "language": "ar"},
    },
    "email": {"summary": "By e-mail", "value": {"email": "mona@example.com", "language": "ar"}},
}
_VERIFY_EXAMPLES: dict[str, Any] = {
    "phone": {
        "summary": "A number's code, with the name (no password: the account signs in by codes)",
        "value": {"phone": "+201001234567", "code": "482913", "full_name": "Mona Adel"},
    },
    "email": {
        "summary": "An e-mail's code, with the password and name",
        "value": {
            "email": "mona@example.com",
            "code": "482913",
            "password": "a long passphrase",
            "full_name": "Mona Adel",
        },
    },
}


@router.post(
    "/auth/register",
    summary="Ask for an account: a code is sent to the e-mail or the mobile number",
    description="Anyone, no token needed. Give `email` or `phone` (exactly one: else 422 naming "
    "`body.phone`). Sends a six-digit code to it (valid `code_expires_in` seconds; a number's by `channel`: "
    "WhatsApp, falling back on SMS, or SMS); the account is made, and signed in, when the code comes back "
    "to `/v1/auth/register/verify` with its name (and, for an e-mail, its password), so only whoever reads "
    "the code chooses them. An account made by a number has no e-mail and no password: it signs in by "
    "codes sent to the number (`/v1/auth/code`). The answer is the same whether or not the address has an "
    "account, so it tells no one which addresses do: an e-mail address that has one is sent a notice "
    "instead of a code (at most hourly); a number that has one is sent a sign-in code, which signs its "
    "account in when it comes back to `/v1/auth/register/verify`. A new request voids the code sent "
    "before; an address is sent at most five codes an hour, and a number at most ten codes a day whatever "
    "they are for. Messages are in `language`, else the best of `Accept-Language` (Arabic or English). "
    "Rate-limited per client address: 429 `too_many_requests` with `Retry-After`.",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CodeSentOut,
    responses=problem_responses(422, 429),
    dependencies=[Depends(limits.per_address("registrations"))],
)
async def register(
    body: Annotated[RegisterIn, Body(openapi_examples=_REGISTER_EXAMPLES)],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> CodeSentOut:
    language = body.language or _language(request)
    if body.phone is not None:
        await phone_sign_up.request_phone_registration(
            session, settings, phone=body.phone, channel=body.channel, language=language, now=now
        )
        return _code_sent(None, phone=body.phone, channel=Channel(body.channel))
    await accounts.request_registration(session, settings, email=str(body.email), language=language, now=now)
    return _code_sent(str(body.email))


@router.post(
    "/auth/register/verify",
    summary="Prove the e-mail or number with its code: the account is made and signed in",
    description="Anyone. The code sent by `register` to `email` or `phone` (exactly one) makes the account, "
    "with the `full_name` given here, the `password` for an e-mail (required with `email`, refused with "
    "`phone`: 422 naming `body.password`) and the language asked for there, and answers its first token "
    "pair, as `login` does; `Location` is `/v1/me`. An account made by a number has it proven, no e-mail "
    "and no password. A code sent to a number that has an account signs that account in instead (the name "
    "is not used). A code works once and dies after five wrong tries; past ten "
    "wrong guesses at an address's codes in a day, each further guess waits longer. A wrong, expired, "
    "used or dead code answers 400 `invalid_code` (which of these is not said). Rate-limited per client "
    "address like `login`.",
    status_code=status.HTTP_201_CREATED,
    response_model=TokensOut,
    responses=problem_responses(400, 422, 429),
    dependencies=[Depends(limits.per_address("logins"))],
)
async def verify_registration(
    body: Annotated[VerifyRegistrationIn, Body(openapi_examples=_VERIFY_EXAMPLES)],
    db: DatabaseDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    now: NowDep,
    created: CreatedDep,
) -> TokensOut:
    if body.phone is not None:
        pair = await phone_sign_up.verify_phone_registration(
            db, settings, phone=body.phone, code=body.code, full_name=body.full_name, now=now
        )
    else:
        assert body.password is not None  # (the schema asks for it with an e-mail)
        pair = await accounts.verify_registration(
            db,
            settings,
            passwords,
            email=str(body.email),
            code=body.code,
            password=body.password,
            full_name=body.full_name,
            now=now,
        )
    created.at("/v1/me")  # (read with the new account's token)
    return _tokens_out(pair, now.timestamp())


@router.post(
    "/auth/password-reset",
    summary="Ask for a password reset code",
    description="Anyone. When `email` has an account, a six-digit code to choose a new password is sent "
    "to it (in the account's language); when it has none, a note saying so (in `language`, else the best "
    "of `Accept-Language`). The answer is the same either way. A new request voids the code sent before; "
    "at most five an hour per address. Rate-limited per client address: 429 `too_many_requests`.",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CodeSentOut,
    responses=problem_responses(422, 429),
    dependencies=[Depends(limits.per_address("registrations"))],
)
async def request_password_reset(
    body: PasswordResetIn, request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> CodeSentOut:
    language = body.language or _language(request)
    await accounts.request_password_reset(
        session, settings, email=str(body.email), language=language, now=now
    )
    return _code_sent(str(body.email))


@router.post(
    "/auth/password-reset/confirm",
    summary="Choose a new password with the reset code",
    description="Anyone. The code sent by `password-reset` sets `password` as the account's password, "
    "signs the account out everywhere (every refresh token revoked) and tells its address. Sign in with "
    "`login` next. A wrong, expired, used or dead code answers 400 `invalid_code`.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 422, 429),
    dependencies=[Depends(limits.per_address("logins"))],
)
async def confirm_password_reset(
    body: PasswordResetConfirmIn, db: DatabaseDep, settings: SettingsDep, passwords: PasswordsDep, now: NowDep
) -> None:
    await accounts.reset_password(
        db, settings, passwords, email=str(body.email), code=body.code, password=body.password, now=now
    )


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
    "/auth/code",
    summary="Ask for a sign-in code (instead of the password)",
    description="Anyone. Give `email` or `phone` (one of them). When it is an account's e-mail or proven "
    "number, a six-digit code to sign in is sent to it (a number's by `channel`: WhatsApp, falling back on "
    "SMS when the number cannot take it, or SMS); an address without an account is sent nothing. The answer "
    "is the same either way. Limits as for registration codes: a new request voids the code before, at most "
    "five an hour per address, rate-limited per client address (429 `too_many_requests`).",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CodeSentToOut,
    responses=problem_responses(422, 429),
    dependencies=[Depends(limits.per_address("registrations"))],
)
async def request_sign_in_code(
    body: SignInCodeIn, session: SessionDep, settings: SettingsDep, now: NowDep
) -> CodeSentToOut:
    email = str(body.email) if body.email is not None else None
    channel = Channel.EMAIL if email is not None else Channel(body.channel)
    await accounts.request_sign_in_code(
        session, settings, email=email, phone=body.phone, channel=channel, now=now
    )
    return _code_sent_to(email or str(body.phone), channel)


@router.post(
    "/auth/code/verify",
    summary="Sign in with the code",
    description="Anyone. The code sent by `/v1/auth/code` to `email` or `phone` answers a token pair, as "
    "`login` does. A wrong, expired, used or dead code answers 400 `invalid_code`; a code works once and "
    "dies after five wrong tries, and past ten wrong guesses at an address's codes in a day each further "
    "guess waits longer. Rate-limited per client address like `login`.",
    response_model=TokensOut,
    responses=problem_responses(400, 422, 429),
    dependencies=[Depends(limits.per_address("logins"))],
)
async def sign_in_with_code(
    body: SignInVerifyIn, db: DatabaseDep, settings: SettingsDep, now: NowDep
) -> TokensOut:
    pair = await accounts.sign_in_with_code(
        db,
        settings,
        email=str(body.email) if body.email is not None else None,
        phone=body.phone,
        code=body.code,
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


@router.patch(
    "/me",
    summary="Edit the signed-in user's profile",
    description="Any signed-in user: their name, the language their messages are written in, and the "
    "channels their booking messages go by (in order; one left out is opted out of). Fields left out stay "
    "as they are.",
    response_model=UserOut,
    responses=problem_responses(401, 422),
)
async def update_me(body: ProfileIn, actor: ActorDep, session: SessionDep) -> UserOut:
    user = await accounts.update_profile(
        session, actor, full_name=body.full_name, language=body.language, channels=body.channels
    )
    return UserOut.model_validate(user)


@router.post(
    "/me/password",
    summary="Change the password",
    description="Any signed-in user, with the current password asked again (a wrong one answers 403 "
    "`wrong_password`, as does any for an account made by a number, which has no password: it signs in by "
    "codes). Every other session is signed out (their refresh tokens revoked), the address is "
    "told, and this session continues with the new token pair answered.",
    response_model=TokensOut,
    responses=problem_responses(401, 403, 422),
)
async def change_password(
    body: PasswordChangeIn,
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    now: NowDep,
) -> TokensOut:
    pair = await accounts.change_password(
        session,
        settings,
        passwords,
        actor,
        current_password=body.current_password,
        new_password=body.new_password,
        now=now,
    )
    return _tokens_out(pair, now.timestamp())


@router.post(
    "/me/phone",
    summary="Add a mobile number: a code is sent to it",
    description="Any signed-in user. Sends a six-digit code to `phone` by `channel` (WhatsApp, falling "
    "back on SMS, or SMS); the number is the account's once the code comes back to "
    "`/v1/me/phone/verify`. Limits as for every code (five an hour per number; a new request voids "
    "the one before), and ten a day for one account whatever the numbers (429 `too_many_requests`).",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CodeSentToOut,
    responses=problem_responses(401, 422, 429),
    dependencies=[Depends(limits.per_address("registrations"))],
)
async def add_phone(
    body: PhoneCodeIn, actor: ActorDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> CodeSentToOut:
    await accounts.request_phone_code(
        session, settings, actor, phone=body.phone, channel=body.channel, now=now
    )
    return _code_sent_to(body.phone, Channel(body.channel))


@router.post(
    "/me/phone/verify",
    summary="Prove the number with its code",
    description="Any signed-in user. The code sent by `/v1/me/phone` makes `phone` the account's (its "
    "messages can then go by WhatsApp or SMS, and it can sign in with a code sent to it). A number proven "
    "by another account before moves to this one (numbers change hands) and that account is told by "
    "e-mail; unless the number is that account's only way in (it was made by the number): then 422 naming "
    "`body.phone` (rule `holds_account`), and the number's holder may sign in to that account with a code "
    "instead. A wrong, expired, used or dead code answers 400 `invalid_code`.",
    response_model=UserOut,
    responses=problem_responses(400, 401, 422, 429),
    dependencies=[Depends(limits.per_address("logins"))],
)
async def verify_phone(
    body: PhoneVerifyIn, actor: ActorDep, db: DatabaseDep, settings: SettingsDep, now: NowDep
) -> UserOut:
    user = await accounts.verify_phone(db, settings, actor, phone=body.phone, code=body.code, now=now)
    return UserOut.model_validate(user)


@router.delete(
    "/me/phone",
    summary="Remove the mobile number",
    description="Any signed-in user. Messages then go by e-mail only. An account made by its number has "
    "no other way in, so its number stays: 422 naming `phone` (rule `only_address`).",
    response_model=UserOut,
    responses=problem_responses(401, 422),
)
async def remove_phone(actor: ActorDep, session: SessionDep) -> UserOut:
    return UserOut.model_validate(await accounts.remove_phone(session, actor))


@router.post(
    "/me/logout-all",
    summary="Sign out everywhere",
    description="Any signed-in user: every refresh token of the account is revoked, on every device. "
    "Access tokens already issued stay valid until they expire (`expires_in`, minutes).",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401),
)
async def log_out_everywhere(actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await accounts.log_out_everywhere(session, actor, now=now)


@router.post(
    "/me/delete",
    summary="Delete my account",
    description="Any signed-in user, with the password typed again (403 `wrong_password`); an account "
    "made by a number, which has no password, sends instead a sign-in `code` sent to its number by "
    "`/v1/auth/code` (400 `invalid_code` when it is wrong). Your name, "
    "e-mail, number, password and preferences are erased at once, and so are the contents and addresses "
    "of the messages sent to you and what each business wrote in its record of you; every session ends "
    "and every token is refused (401 `invalid_token`). The businesses keep what happened (your past "
    "bookings and payments, under a deleted account with no name), as the law asks of them. Refused while "
    "you work at a business (409 `account_has_roles`: its owner removes you first) or have bookings still "
    "to come (409 `upcoming_bookings`, with their number in `upcoming`: cancel them first). The e-mail may "
    "sign up again as a new account.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 401, 403, 409, 422),
)
async def delete_account(
    body: AccountDeletionIn,
    actor: ActorDep,
    session: SessionDep,
    db: DatabaseDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
    now: NowDep,
) -> None:
    if body.code is not None:
        await accounts.confirm_with_code(db, settings, actor, code=body.code, now=now)
    await account_flows.delete_account(
        session, passwords, actor, password=body.password, code_taken=body.code is not None, now=now
    )


def _language(request: Request) -> str:
    return caller_language(request.headers.get("accept-language"))


def _code_sent(
    email: str | None, *, phone: str | None = None, channel: Channel = Channel.EMAIL
) -> CodeSentOut:
    return CodeSentOut(
        email=email,
        phone=phone,
        channel=channel,
        code_expires_in=int(codes.CODE_TTL.total_seconds()),
        detail="If this address can take it, a code is on its way.",
    )


def _code_sent_to(to: str, channel: Channel) -> CodeSentToOut:
    return CodeSentToOut(
        to=to,
        channel=channel,
        code_expires_in=int(codes.CODE_TTL.total_seconds()),
        detail="If this address can take it, a code is on its way.",
    )
