"""Password hashing and token minting: pure functions over secrets, no I/O."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_JWT_ALGORITHM = "HS256"
_JWT_AUDIENCE = "booklnk-api"


def configure_password_hashing(*, time_cost: int, memory_kib: int) -> None:
    """Set the Argon2 cost once at start-up (tests use a cheap one). Hashes made under
    other parameters still verify, and are upgraded at the next successful login."""
    global _hasher, DUMMY_PASSWORD_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    DUMMY_PASSWORD_HASH = _hasher.hash("booklnk-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Verified against when the account does not exist, so a login for an unknown email costs
# the same time as one for a known email (no account enumeration by timing).
DUMMY_PASSWORD_HASH = _hasher.hash("booklnk-dummy-password")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    is_platform_admin: bool
    expires_at: datetime


def issue_access_token(
    *, secret: str, user_id: uuid.UUID, is_platform_admin: bool, now: datetime, ttl: timedelta
) -> str:
    claims = {
        "sub": str(user_id),
        "aud": _JWT_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": secrets.token_hex(8),
        "adm": is_platform_admin,
    }
    return jwt.encode(claims, secret, algorithm=_JWT_ALGORITHM)


def decode_access_token(token: str, *, secret: str, now: datetime) -> AccessClaims | None:
    """The token's claims, or None when it is malformed, forged or expired."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_JWT_ALGORITHM],
            audience=_JWT_AUDIENCE,
            options={"require": ["sub", "exp", "iat", "aud"], "verify_exp": False, "verify_iat": False},
        )
        user_id = uuid.UUID(claims["sub"])
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    # Expiry is checked against the injected clock rather than PyJWT's wall clock.
    if expires_at <= now:
        return None
    return AccessClaims(user_id, bool(claims.get("adm", False)), expires_at)


def new_opaque_token() -> tuple[str, str]:
    """A random bearer secret and the SHA-256 hex digest under which it is stored."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_opaque_token(raw)


def hash_opaque_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
