"""API shapes for accounts, businesses, members and invitations (never the table classes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from booklnk.kernel.money import MINOR_UNITS
from booklnk.kernel.timezones import DEFAULT_TIME_ZONE
from booklnk.notifications.models import Channel
from booklnk.notifications.recipients import DEFAULT_ORDER
from booklnk.tenancy import phones
from booklnk.tenancy.models import Role

Password = Annotated[str, Field(min_length=10, max_length=256, description="10 to 256 characters.")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["cairo-cuts"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Language = Literal["ar", "en"]
Code = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="The six digits sent.", examples=["482913"])]
Phone = Annotated[
    str,
    Field(
        min_length=3,
        max_length=phones.MAX_INPUT,
        description="A mobile number: E.164, or an Egyptian one as dialled at home (01xxxxxxxxx). Answered as"
        " E.164.",
        examples=["+201001234567", "01001234567"],
    ),
    AfterValidator(phones.normalise),
]
PhoneChannel = Literal["sms", "whatsapp"]


class CodeSentToOut(BaseModel):
    """The same answer whether or not the address has an account."""

    to: str = Field(description="The e-mail address, or the number in E.164.")
    channel: Channel = Field(description="The channel tried first (WhatsApp falls back on SMS).")
    code_expires_in: int = Field(description="Seconds a code sent now stays valid.")
    detail: str


class PhoneCodeIn(_In):
    phone: Phone
    channel: PhoneChannel = Field(
        default="whatsapp", description="How the code goes; by WhatsApp it falls back on SMS."
    )


class PhoneVerifyIn(_In):
    phone: Phone
    code: Code


class _EmailOrPhone(_In):
    email: EmailStr | None = Field(default=None, description="An e-mail address; or give `phone`.")
    phone: Phone | None = Field(default=None, validate_default=True)

    # On the field (run even when it is left out) rather than the model, so the problem
    # names `body.phone` instead of the whole body.
    @field_validator("phone")
    @classmethod
    def _one_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "email" in info.data and (info.data["email"] is None) == (value is None):
            raise ValueError("give exactly one of email and phone")
        return value


class SignInCodeIn(_EmailOrPhone):
    channel: PhoneChannel = Field(
        default="whatsapp", description="For a phone: how the code goes (by WhatsApp it falls back on SMS)."
    )


class SignInVerifyIn(_EmailOrPhone):
    code: Code


class RegisterIn(_EmailOrPhone):
    """An e-mail address, or a mobile number (an account made by a number has no e-mail
    and no password: it signs in by codes sent to the number)."""

    channel: PhoneChannel = Field(
        default="whatsapp", description="For a phone: how the code goes (by WhatsApp it falls back on SMS)."
    )
    language: Language | None = Field(
        default=None, description="What the account's messages are written in; default: from Accept-Language."
    )


class AdminIn(_In):
    """A platform admin as `booklnk create-admin` makes one (the operator vouches for the
    address: no code)."""

    email: EmailStr
    password: Password
    full_name: Name


class CodeSentOut(BaseModel):
    """The same answer whether or not the address has an account."""

    email: str | None = Field(
        description="The e-mail address the code went to; null when a `phone` was given."
    )
    phone: str | None = Field(
        default=None, description="The number the code went to (E.164), if one was given."
    )
    channel: Channel = Field(
        default=Channel.EMAIL, description="The channel tried first (WhatsApp falls back on SMS)."
    )
    code_expires_in: int = Field(description="Seconds a code sent now stays valid.")
    detail: str


class VerifyRegistrationIn(_EmailOrPhone):
    code: Code
    password: Password | None = Field(
        default=None,
        validate_default=True,
        description="With `email`: the account's password (10 to 256 characters). With `phone`: left out (the"
        " account signs in by codes).",
    )
    full_name: Name

    @field_validator("password")
    @classmethod
    def _password_for_email(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("email") is not None and value is None:
            raise ValueError("is required with an e-mail address")
        if info.data.get("phone") is not None and value is not None:
            raise ValueError("must be left out with a phone: the account signs in by codes sent to it")
        return value


class PasswordResetIn(_In):
    email: EmailStr
    language: Language | None = Field(
        default=None, description="For an address without an account: what its note is written in."
    )


class PasswordResetConfirmIn(_In):
    email: EmailStr
    code: Code
    password: Password


class PasswordChangeIn(_In):
    current_password: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Password


class AccountDeletionIn(_In):
    password: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        default=None, description="The account's password, again (or `code`, for an account with none)."
    )
    code: Code | None = Field(
        default=None,
        validate_default=True,
        description="For an account made by a number (it has no password): a sign-in code sent to the number"
        " by `/v1/auth/code`.",
    )

    @field_validator("code")
    @classmethod
    def _one_proof(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "password" in info.data and (info.data["password"] is None) == (value is None):
            raise ValueError("give exactly one of password and code")
        return value


class ProfileIn(_In):
    full_name: Name | None = None
    language: Language | None = None
    channels: list[Channel] | None = Field(
        default=None,
        max_length=3,
        description="The channels booking messages go by, in the order to try them (the next when one cannot"
        " reach you); one left out is opted out of, an empty list opts out of them all. Phone channels need a"
        " proven `phone`. Codes still go where they are asked to.",
        examples=[["whatsapp", "email"]],
    )

    @field_validator("channels")
    @classmethod
    def _each_once(cls, value: list[Channel] | None) -> list[Channel] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("must name each channel at most once")
        return value


class UserOut(_Out):
    id: uuid.UUID
    email: str | None = Field(
        description="The account's e-mail address; null for an account made by a number."
    )
    phone: str | None = Field(description="The proven mobile number (E.164), if any.")
    full_name: str
    language: Language
    channels: list[Channel] = Field(
        description="The channels booking messages go by, in order (the default: WhatsApp, SMS, e-mail)."
    )
    is_platform_admin: bool
    created_at: datetime

    @field_validator("channels", mode="before")
    @classmethod
    def _default_order(cls, value: object) -> object:
        return list(DEFAULT_ORDER) if value is None else value


class LoginIn(_In):
    email: EmailStr
    password: Annotated[str, Field(min_length=1, max_length=256)]


class RefreshIn(_In):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class TokensOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
    refresh_expires_at: datetime


class MembershipOut(BaseModel):
    business_id: uuid.UUID
    business_name: str
    business_slug: str
    role: Role


class MeOut(BaseModel):
    user: UserOut
    memberships: list[MembershipOut]


class BusinessCreate(_In):
    name: Name
    slug: Slug
    business_type: Annotated[str, Field(min_length=1, max_length=40, examples=["barbershop"])]
    time_zone: Annotated[str, Field(max_length=64)] = DEFAULT_TIME_ZONE
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EGP"
    rule_overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="Rules overriding the business type's defaults, within the bounds it allows.",
    )

    @field_validator("currency")
    @classmethod
    def _supported_currency(cls, value: str) -> str:
        if value not in MINOR_UNITS:
            raise ValueError(f"currency must be one of {sorted(MINOR_UNITS)}")
        return value


class BusinessUpdate(_In):
    name: Name | None = None
    time_zone: Annotated[str | None, Field(max_length=64)] = None
    rule_overrides: dict[str, Any] | None = None
    return_origins: list[Annotated[str, Field(max_length=2000)]] | None = Field(
        default=None,
        description="Where checkout may send the customer back (replaces the list; at most 10): each "
        "`https://host[:port]`, or `http://localhost[:port]` / `http://127.0.0.1[:port]` outside production.",
        examples=[["https://book.example.com"]],
    )
    require_phone: bool | None = Field(
        default=None,
        description="Customers booking themselves must have proven a mobile number first (403 "
        "`phone_required` otherwise); staff booking for someone are not held to it.",
    )


class BusinessOut(_Out):
    id: uuid.UUID
    name: str
    slug: str
    business_type: str = Field(validation_alias="business_type_key")
    time_zone: str
    currency: str
    rule_overrides: dict[str, Any]
    return_origins: list[str] = Field(description="Origins checkout's `return_url` and `cancel_url` may use.")
    require_phone: bool = Field(description="Customers booking themselves need a proven mobile number.")
    created_at: datetime


class MemberOut(BaseModel):
    user_id: uuid.UUID
    full_name: str
    email: str | None = Field(description="Null for an account made by a mobile number alone.")
    role: Role


class InvitationCreate(_In):
    email: EmailStr
    role: Role = Role.STAFF


class InvitationOut(_Out):
    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime


class InvitationCreated(InvitationOut):
    token: str = Field(description="Shown once: send it to the invitee, who accepts with it.")


class InvitationAccept(_In):
    token: Annotated[str, Field(min_length=1, max_length=512)]
