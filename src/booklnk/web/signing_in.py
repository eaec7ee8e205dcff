"""Signing in to the web app with a one-time code (to a proven mobile number by WhatsApp
or SMS, or to an e-mail), creating an account by a code to a mobile number (first: most
customers book on a phone) or an e-mail, and signing out: the same use cases as the API's
`/v1/auth/…`, the tokens kept in the session's cookies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from booklnk.notifications.models import Channel
from booklnk.tenancy import accounts, auth, phone_sign_up
from booklnk.tenancy.auth import TokenPair
from booklnk.tenancy.errors import InvalidCode
from booklnk.tenancy.schemas import RegisterIn, SignInCodeIn, SignInVerifyIn, VerifyRegistrationIn
from booklnk.web import rendering, session
from booklnk.web.guard import (
    FormDep,
    SessionDep,
    VisitorDep,
    WebRoute,
    client_limited,
    db_of,
    language_of,
    local_path,
    now_of,
    see_other,
    settings_of,
)
from booklnk.web.words import field_rule, problem_text

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Next = Annotated[str | None, Query(max_length=500)]
Prefill = Annotated[str | None, Query(max_length=32)]


@router.get("/sign-in")
async def sign_in_page(request: Request, _: VisitorDep, next: Next = None) -> Response:
    language = language_of(request)
    return rendering.page(
        request, language, "sign_in.html", next=local_path(next, language), errors={}, posted={}
    )


@router.post("/sign-in")
async def send_sign_in_code(request: Request, tx: SessionDep, posted: FormDep) -> Response:
    language = language_of(request)
    client_limited(request, "registrations")
    address = posted.get("address", "").strip()
    fields = {"email": address} if "@" in address else {"phone": address, "channel": posted.get("channel")}
    asked = _valid(SignInCodeIn, {k: v for k, v in fields.items() if v}, language)
    next_path = local_path(posted.get("next"), language)
    if isinstance(asked, dict):
        return rendering.page(
            request, language, "sign_in.html", status_code=422, next=next_path, errors=asked, posted=posted
        )
    email = str(asked.email) if asked.email is not None else None
    channel = Channel.EMAIL if email is not None else Channel(asked.channel)
    await accounts.request_sign_in_code(
        tx, settings_of(request), email=email, phone=asked.phone, channel=channel, now=now_of(request)
    )
    return _code_page(request, language, email or str(asked.phone), next_path)


@router.post("/sign-in/code")
async def sign_in_with_code(request: Request, posted: FormDep) -> Response:
    language = language_of(request)
    client_limited(request, "logins")
    address = posted.get("address", "")
    next_path = local_path(posted.get("next"), language)
    field = "email" if "@" in address else "phone"
    given = _valid(SignInVerifyIn, {field: address, "code": posted.get("code", "").strip()}, language)
    if isinstance(given, dict):
        return _code_page(request, language, address, next_path, errors=given, status_code=422)
    try:
        pair = await accounts.sign_in_with_code(
            db_of(request),
            settings_of(request),
            email=str(given.email) if given.email is not None else None,
            phone=given.phone,
            code=given.code,
            now=now_of(request),
        )
    except InvalidCode:
        return _code_page(
            request, language, address, next_path, errors={"code": _invalid_code(language)}, status_code=400
        )
    return _signed_in(request, pair, next_path)


@router.get("/sign-up")
async def sign_up_page(request: Request, _: VisitorDep, next: Next = None, phone: Prefill = None) -> Response:
    """`phone`: the number to fill in (from the sign-in page, for a number with no account)."""
    language = language_of(request)
    return rendering.page(
        request,
        language,
        "sign_up.html",
        next=local_path(next, language),
        errors={},
        posted={"phone": phone} if phone else {},
    )


@router.post("/sign-up")
async def send_sign_up_code(request: Request, tx: SessionDep, posted: FormDep) -> Response:
    """A code to the number (the phone form) or to the e-mail (the e-mail form)."""
    language = language_of(request)
    client_limited(request, "registrations")
    next_path = local_path(posted.get("next"), language)
    by_phone = "phone" in posted
    fields = (
        {"phone": posted.get("phone", "").strip(), "channel": posted.get("channel") or "whatsapp"}
        if by_phone
        else {"email": posted.get("email", "").strip()}
    )
    asked = _valid(RegisterIn, fields | {"language": language}, language)
    if isinstance(asked, dict):
        return rendering.page(
            request, language, "sign_up.html", status_code=422, next=next_path, errors=asked, posted=posted
        )
    if asked.phone is not None:
        await phone_sign_up.request_phone_registration(
            tx,
            settings_of(request),
            phone=asked.phone,
            channel=asked.channel,
            language=language,
            now=now_of(request),
        )
    else:
        await accounts.request_registration(
            tx, settings_of(request), email=str(asked.email), language=language, now=now_of(request)
        )
    return rendering.page(
        request,
        language,
        "sign_up_code.html",
        email=str(asked.email) if asked.email else None,
        phone=asked.phone,
        next=next_path,
        errors={},
        posted={},
    )


@router.post("/sign-up/code")
async def sign_up_with_code(request: Request, posted: FormDep) -> Response:
    language = language_of(request)
    client_limited(request, "logins")
    next_path = local_path(posted.get("next"), language)
    email, phone = posted.get("email"), posted.get("phone")
    proof = {"code": posted.get("code", "").strip(), "full_name": posted.get("full_name", "")}
    # A number's account has no password: the form asks none.
    address = (
        {"phone": phone} if phone is not None else {"email": email, "password": posted.get("password", "")}
    )
    given = _valid(VerifyRegistrationIn, address | proof, language)
    errors: dict[str, str] = given if isinstance(given, dict) else {}
    if not isinstance(given, dict):
        try:
            pair = await _verify_registration(request, given)
        except InvalidCode:
            errors = {"code": _invalid_code(language)}
        else:
            return _signed_in(request, pair, next_path)
    return rendering.page(
        request,
        language,
        "sign_up_code.html",
        status_code=422,
        email=email,
        phone=phone,
        next=next_path,
        errors=errors,
        posted={k: v for k, v in posted.items() if k != "password"},
    )


async def _verify_registration(request: Request, given: VerifyRegistrationIn) -> TokenPair:
    if given.phone is not None:
        return await phone_sign_up.verify_phone_registration(
            db_of(request),
            settings_of(request),
            phone=given.phone,
            code=given.code,
            full_name=given.full_name,
            now=now_of(request),
        )
    assert given.password is not None  # (the schema asks for it with an e-mail)
    return await accounts.verify_registration(
        db_of(request),
        settings_of(request),
        request.app.state.passwords,
        email=str(given.email),
        code=given.code,
        password=given.password,
        full_name=given.full_name,
        now=now_of(request),
    )


@router.post("/sign-out")
async def sign_out(request: Request, tx: SessionDep, posted: FormDep) -> Response:
    raw = session.refresh_token(request)
    if raw is not None:
        await auth.logout(tx, raw_token=raw, now=now_of(request))
    response = see_other(f"/{language_of(request)}/")
    session.forget(response, settings_of(request))
    # Tokens renewed on the way in (an expired access token) must not be set again.
    request.state.web_signed_out = True
    return response


def _code_page(
    request: Request,
    language: str,
    address: str,
    next_path: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return rendering.page(
        request,
        language,
        "sign_in_code.html",
        status_code=status_code,
        address=address,
        next=next_path,
        errors=errors or {},
    )


def _signed_in(request: Request, pair: TokenPair, next_path: str) -> Response:
    response = see_other(next_path)
    session.keep(response, pair, settings_of(request), now_of(request))
    return response


def _valid(model: type[BaseModel], fields: dict[str, Any], language: str) -> Any:
    """The model, or each field's first complaint (by field name) for the form to show."""
    try:
        return model.model_validate(fields)
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "address"
            errors.setdefault(name, field_rule(language, error["type"]))
        return errors


def _invalid_code(language: str) -> str:
    return problem_text(language, "invalid_code")
