"""Who is signed in to the web app, kept in cookies: the API's own tokens (an access token
and its rotating refresh token), never readable by scripts, sent only to this site
(SameSite=Lax: a link from WhatsApp still arrives signed in; a form posted from another
site does not), Secure when the deployment is served over HTTPS, and then named
`__Host-…`: the browser keeps such a cookie to this exact host and path, so no sibling
subdomain can set or shadow it.

Forms carry a CSRF token that must match the `bl_csrf` cookie (double submit): another
site can make a browser post, but can neither read nor set that cookie. Each page carries
the token masked with a fresh random pad, so the compressed pages never repeat a secret an
attacker could recover byte by byte from their sizes (BREACH)."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request, Response

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.errors import Forbidden
from booklnk.tenancy import auth, credentials
from booklnk.tenancy.auth import TokenPair
from booklnk.tenancy.context import Actor
from booklnk.tenancy.errors import InvalidToken

ACCESS = "bl_access"
REFRESH = "bl_refresh"
CSRF = "bl_csrf"
LANGUAGE = "bl_lang"
CSRF_FIELD = "csrf"
# Two tabs of one browser share its cookies: opened together after the access token
# expired, both renew with the same refresh token, moments apart. Within this window the
# second is that other tab, not a thief (whose replay, later, still ends the session).
TAB_RACE_GRACE = timedelta(seconds=10)
BACKGROUND_HEADER = "x-booklnk-background"
# Long enough for any token we mint; a longer cookie is somebody else's.
_MAX_TOKEN = 2_000


@dataclass(frozen=True, slots=True)
class Visitor:
    """The browser's caller: signed in (`actor`) or not, and the tokens to set on the way
    out when its access token was renewed by this request."""

    actor: Actor | None
    renewed: TokenPair | None = None


async def visitor(request: Request, settings: Settings, db: Database, now: datetime) -> Visitor:
    """The signed-in account from the cookies; an expired access token is renewed with the
    refresh token (rotated, as the API rotates it); nothing valid: signed out."""
    secret = settings.jwt_secret.get_secret_value()
    token = request.cookies.get(cookie_name(ACCESS, settings), "")[:_MAX_TOKEN]
    if token:
        claims = credentials.decode_access_token(token, secret=secret, now=now)
        if claims is not None and claims.expires_at > now:
            return Visitor(Actor(claims.user_id, claims.is_platform_admin))
    raw_refresh = request.cookies.get(cookie_name(REFRESH, settings), "")[:_MAX_TOKEN]
    # A page's background request (its status following itself) never renews: a refresh
    # token works once, and a poll racing the reader's own click with the same token would
    # look like theft and end the session. Refused, the script reloads the page instead.
    if not raw_refresh or request.headers.get(BACKGROUND_HEADER):
        return Visitor(None)
    try:
        pair = await auth.refresh(db, settings, raw_token=raw_refresh, now=now, reuse_grace=TAB_RACE_GRACE)
    except InvalidToken:
        return Visitor(None)
    claims = credentials.decode_access_token(pair.access_token, secret=secret, now=now)
    assert claims is not None  # (just minted)
    return Visitor(Actor(claims.user_id, claims.is_platform_admin), renewed=pair)


def keep(response: Response, pair: TokenPair, settings: Settings, now: datetime) -> None:
    """Set the session's cookies from a new token pair (sign-in, renewal)."""
    secure = _secure(settings)
    response.set_cookie(
        cookie_name(ACCESS, settings),
        pair.access_token,
        max_age=max(int((pair.access_expires_at - now).total_seconds()), 0),
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    response.set_cookie(
        cookie_name(REFRESH, settings),
        pair.refresh_token,
        max_age=max(int((pair.refresh_expires_at - now).total_seconds()), 0),
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def forget(response: Response, settings: Settings) -> None:
    # Removed with the attributes they were set with (a `__Host-` cookie needs Secure).
    for name in (ACCESS, REFRESH):
        response.delete_cookie(
            cookie_name(name, settings), secure=_secure(settings), httponly=True, samesite="lax"
        )


def refresh_token(request: Request) -> str | None:
    return request.cookies.get(cookie_name(REFRESH, _settings(request)), "")[:_MAX_TOKEN] or None


def csrf_token(request: Request) -> str:
    """The browser's CSRF token (a new one when it has none: `remember_csrf` sets it)."""
    found = request.cookies.get(cookie_name(CSRF, _settings(request)), "")
    if 20 <= len(found) <= 100:
        return found
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


def masked_csrf(request: Request) -> str:
    """The browser's CSRF token as a page carries it: a fresh pad, then the token XOR the pad."""
    return mask(csrf_token(request))


def mask(token: str) -> str:
    secret = token.encode()
    pad = secrets.token_bytes(len(secret))
    return base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(pad, secret, strict=True))).decode()


def unmask(sent: str) -> str | None:
    """The token a masked one carries, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(sent.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    half = len(raw) // 2
    if not raw or len(raw) % 2:
        return None
    try:
        return bytes(a ^ b for a, b in zip(raw[:half], raw[half:], strict=True)).decode("ascii")
    except UnicodeDecodeError:
        return None


def remember_csrf(request: Request, response: Response, settings: Settings) -> None:
    """Set the cookie of a CSRF token first handed out by this request."""
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is not None:
        response.set_cookie(
            cookie_name(CSRF, settings), token, httponly=True, secure=_secure(settings), samesite="lax"
        )


def check_csrf(request: Request, sent: str | None) -> None:
    """A form's token must be the browser's own (403 otherwise: the post came from elsewhere)."""
    cookie = request.cookies.get(cookie_name(CSRF, _settings(request)), "")
    token = unmask(sent) if sent else None
    if not cookie or token is None or not hmac.compare_digest(cookie.encode(), token.encode()):
        raise Forbidden("The form is stale or came from another site; reload the page.", code="csrf_failed")


def _secure(settings: Settings) -> bool:
    return settings.public_base_url.startswith("https://")


def cookie_name(base: str, settings: Settings) -> str:
    """A session cookie's name: `__Host-` prefixed behind HTTPS (the prefix needs Secure)."""
    return f"__Host-{base}" if _secure(settings) else base


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
