"""Pay links: a URL a customer opens from a message (a waitlist promotion, a hold about to
lapse) that starts checkout for their booking and sends the browser to Kashier's page, no
sign-in needed. The link names the business and the booking and lasts until the hold does;
it is sealed (kernel.sealed), so it opens that booking's checkout (as its customer) and no
other. Nothing of it is stored: the outbox keeps the claim, the link is made when the
message is sent. Packed as bytes (two UUIDs and a time): 75 characters, as short as a text
message needs. Pure."""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from booklnk.kernel.sealed import seal, unseal
from booklnk.payments.errors import PayLinkExpired, PayLinkNotFound

PATH = "/v1/pay/"


_PACKED = struct.Struct(">16s16sQ")  # business, booking, until (Unix seconds)


@dataclass(frozen=True, slots=True)
class PayClaim:
    business_id: uuid.UUID
    booking_id: uuid.UUID
    until: datetime

    def as_params(self) -> dict[str, str]:
        """As a message's parameters keep it (JSON)."""
        return {
            "business_id": str(self.business_id),
            "booking_id": str(self.booking_id),
            "until": self.until.isoformat(),
        }

    @classmethod
    def from_params(cls, value: dict[str, str]) -> PayClaim:
        return cls(
            uuid.UUID(value["business_id"]),
            uuid.UUID(value["booking_id"]),
            datetime.fromisoformat(value["until"]),
        )


def link(base_url: str, key: bytes, claim: PayClaim) -> str:
    packed = _PACKED.pack(claim.business_id.bytes, claim.booking_id.bytes, int(claim.until.timestamp()))
    return f"{base_url.rstrip('/')}{PATH}{seal(key, packed)}"


def read(key: bytes, token: str, *, now: datetime) -> PayClaim:
    """The claim `token` carries; 404 `pay_link_not_found` for one we did not make, 410
    `pay_link_expired` past its hold."""
    payload = unseal(key, token)
    if payload is None or len(payload) != _PACKED.size:
        raise PayLinkNotFound("This pay link is not one of ours.")
    business, booking, until = _PACKED.unpack(payload)
    claim = PayClaim(uuid.UUID(bytes=business), uuid.UUID(bytes=booking), datetime.fromtimestamp(until, UTC))
    if claim.until <= now:
        raise PayLinkExpired("This pay link has expired, with the booking's hold.")
    return claim
