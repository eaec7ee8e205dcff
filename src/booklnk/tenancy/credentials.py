"""Password hashing and token minting: pure functions over secrets, no I/O."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_JWT_ALGORITHM = "HS256"
_JWT_AUDIENCE = "booklnk-api"


class Passwords:
    """Argon2id hashing at the cost the settings name. Hashing runs in a worker thread:
    at production cost one hash takes ~80 ms, which must not stall the event loop."""

    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash("booklnk-dummy-password")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """False for a wrong password. With no hash (unknown account) it still spends the
        time of a real check, so timing does not tell which emails have accounts."""

        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy_hash, password) and bool(
                    password_hash
                )
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    is_platform_admin: bool
    expires_at: datetime
    # The account's language when the token was issued: problems are written in it when a
    # request names none (`Accept-Language`), with no database read on the error path.
    language: str | None = None


def issue_access_token(
    *,
    secret: str,
    user_id: uuid.UUID,
    is_platform_admin: bool,
    now: datetime,
    ttl: timedelta,
    language: str | None = None,
) -> str:
    claims = {
        "sub": str(user_id),
        "aud": _JWT_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": secrets.token_hex(8),
        "adm": is_platform_admin,
        **({"lng": language} if language is not None else {}),
    }
    return jwt.encode(claims, secret, algorithm=_JWT_ALGORITHM)


def decode_access_token(token: str, *, secret: str, now: datetime) -> AccessClaims | None:
    """The token's claims, or None when it is malformed, forged, expired, or carries a claim
    the app never mints (a NumericDate that is not an integer of the supported range, an
    `adm` that is not a boolean): a signature vouches for who wrote the claims, not for
    their shape, and a shape the app cannot read must not become a 500."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_JWT_ALGORITHM],
            audience=_JWT_AUDIENCE,
            options={"require": ["sub", "exp", "iat", "aud"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return None
    user_id = _user_id(claims["sub"])
    issued_at, expires_at = _numeric_date(claims["iat"]), _numeric_date(claims["exp"])
    is_admin = claims.get("adm", False)
    if user_id is None or issued_at is None or expires_at is None or not isinstance(is_admin, bool):
        return None
    if issued_at > expires_at:
        return None
    # Expiry is checked against the injected clock rather than PyJWT's wall clock.
    expiry = datetime.fromtimestamp(expires_at, tz=now.tzinfo)
    if expiry <= now:
        return None
    language = claims.get("lng")
    return AccessClaims(user_id, is_admin, expiry, language if language in ("ar", "en") else None)


def _user_id(value: object) -> uuid.UUID | None:
    if not isinstance(value, str):  # UUID() of a number fails with AttributeError, not ValueError
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# NumericDates are accepted from the epoch up to the end of the supported years (the
# catalog's 2000..2199): well inside what `datetime` holds, so converting one cannot
# overflow, and far beyond any lifetime the app mints.
_LATEST_NUMERIC_DATE = int(datetime(2200, 1, 1, tzinfo=UTC).timestamp())


def _numeric_date(value: object) -> int | None:
    """Seconds since the epoch as the app mints them (a JSON integer), else None: a string,
    a boolean, a float (NaN and infinity included) or an integer out of range is refused
    rather than coerced."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value < _LATEST_NUMERIC_DATE else None


CODE_DIGITS = 6


def new_code() -> str:
    """A one-time code a person types: six digits, uniformly random."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(key: str, code_id: uuid.UUID, code: str) -> str:
    """A code as stored: an HMAC under the server's key, salted by its row. A million
    codes are a moment's work to try against a plain hash; without the key, none."""
    return hmac.new(key.encode(), f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_opaque_token() -> tuple[str, str]:
    """A random bearer secret and the SHA-256 hex digest under which it is stored."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_opaque_token(raw)


def hash_opaque_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
