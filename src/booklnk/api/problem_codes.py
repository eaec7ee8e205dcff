"""Every problem `code` the API answers, its HTTP status and what it means to a client.

The OpenAPI document lists, on each operation and status, the codes it can answer, each
with an example (see `app._document_problem_codes`): the codes every operation of its kind
shares (below, `shared_codes`) and the ones its description names. A test keeps this table
equal to the codes the domains define, and the test client checks every problem the suite
meets against the operation's list.
"""

from __future__ import annotations

from dataclasses import dataclass

from booklnk.scheduling.rules import RULE_MESSAGES, SlotRule


@dataclass(frozen=True, slots=True)
class ProblemCode:
    status: int
    meaning: str


_DOMAIN: dict[str, ProblemCode] = {
    # Requests
    "validation_failed": ProblemCode(422, "A field broke a rule: `errors` names each field and the rule."),
    "invalid_value": ProblemCode(422, "A value passed the rules but cannot be stored (a NUL character)."),
    "body_too_large": ProblemCode(413, "The body is larger than this route accepts (`limit`, in bytes)."),
    "too_many_requests": ProblemCode(429, "Too many requests from this address: wait `Retry-After` seconds."),
    "database_unavailable": ProblemCode(503, "The database is out of reach: try again after `Retry-After`."),
    "internal_error": ProblemCode(500, "A fault on our side: quote `request_id` when reporting it."),
    "not_found": ProblemCode(404, "Nothing is at this path."),
    "unauthorized": ProblemCode(401, "Sign in: the route needs a bearer access token."),
    # Accounts and businesses
    "invalid_token": ProblemCode(401, "The access token is invalid, expired, or its account was deleted."),
    "invalid_credentials": ProblemCode(401, "The e-mail and password do not match an account."),
    "login_throttled": ProblemCode(429, "Too many failed logins of this account from here."),
    "insufficient_role": ProblemCode(403, "The caller's role in this business does not allow this."),
    "invalid_code": ProblemCode(
        400, "The code is wrong, expired, used, or tried too often: ask for a new one."
    ),
    "wrong_password": ProblemCode(403, "The current password is wrong."),
    "business_not_found": ProblemCode(404, "No such business (or not one the caller may see)."),
    "slug_taken": ProblemCode(409, "Another business has this slug."),
    "member_not_found": ProblemCode(404, "No such member of this business."),
    "last_owner": ProblemCode(409, "A business must keep at least one owner."),
    "invitation_not_found": ProblemCode(404, "No such pending invitation."),
    "invitation_unusable": ProblemCode(409, "Used, expired, or for another e-mail."),
    "invitation_pending": ProblemCode(409, "An invitation to the address is open (`invitation_id`)."),
    "business_type_not_found": ProblemCode(404, "No business type has this key."),
    "business_type_exists": ProblemCode(409, "A business type with this key exists."),
    "invalid_metrics_token": ProblemCode(401, "`/metrics` needs the metrics bearer token."),
    # Catalog and schedules
    "service_not_found": ProblemCode(404, "No such service in this business."),
    "staff_not_found": ProblemCode(404, "No such staff member in this business."),
    "staff_user_taken": ProblemCode(409, "This account is already a staff member of the business."),
    "resource_not_found": ProblemCode(404, "No such resource (room, chair) in this business."),
    "date_override_exists": ProblemCode(409, "This date already has an override."),
    "date_override_not_found": ProblemCode(404, "This date has no override."),
    "time_off_not_found": ProblemCode(404, "No such time off."),
    # Bookings
    "booking_not_found": ProblemCode(404, "No such booking (or not one the caller may see)."),
    "phone_required": ProblemCode(403, "This business asks for a proven mobile number first (/v1/me/phone)."),
    "account_has_roles": ProblemCode(409, "The account works at a business: its owner removes it first."),
    "upcoming_bookings": ProblemCode(
        409, "The account has bookings to come (`upcoming`): cancel them first."
    ),
    "customer_not_found": ProblemCode(404, "No customer record of this business has this id."),
    "customer_exists": ProblemCode(409, "A record of this business has the number (`customer_id` names it)."),
    "invalid_transition": ProblemCode(409, "The booking's `booking_status` cannot take this `action`."),
    "version_mismatch": ProblemCode(412, "`If-Match` names an older version: read it again, then retry."),
    "concurrent_update": ProblemCode(409, "Changed by someone else at the same moment: read, then retry."),
    "cancellation_window_passed": ProblemCode(
        409, "Free cancellation ended at `free_until`; the business's policy decides the rest."
    ),
    "payment_required": ProblemCode(409, "The booking must be paid before this."),
    "too_early": ProblemCode(409, "Not yet: allowed from `earliest` (`rule` names the business rule)."),
    "too_late": ProblemCode(409, "No longer: allowed until `latest` (`rule` names the business rule)."),
    "too_many_holds": ProblemCode(409, "The customer holds `limit` unpaid bookings already."),
    "daily_limit_reached": ProblemCode(409, "The customer has `limit` bookings that day already."),
    "nothing_to_undo": ProblemCode(409, "The booking's last step cannot be undone."),
    "idempotency_key_in_flight": ProblemCode(409, "A request with this `Idempotency-Key` is still running."),
    "calendar_feed_not_found": ProblemCode(404, "No such calendar feed (or its token was rotated)."),
    # Classes
    "session_not_found": ProblemCode(404, "No such class session."),
    "series_not_found": ProblemCode(404, "No such class series."),
    "session_full": ProblemCode(409, "No seat left: join the waitlist (`waitlist`)."),
    "session_closed": ProblemCode(409, "The session was cancelled or has started."),
    "seats_available": ProblemCode(409, "The session has a free seat: book it instead of waiting."),
    "already_waiting": ProblemCode(409, "The customer is on this waitlist already."),
    "waitlist_entry_not_found": ProblemCode(404, "No such waiting entry."),
    "resource_busy": ProblemCode(409, "The room (`resource_id`) is taken at `starts_at`."),
    "instructor_busy": ProblemCode(409, "The instructor (`staff_id`) is busy at `starts_at`."),
    # Payments
    "booking_not_payable": ProblemCode(409, "Not held for payment, already paid, or its hold has lapsed."),
    "pay_link_not_found": ProblemCode(404, "Not a pay link of ours (or one altered)."),
    "pay_link_expired": ProblemCode(410, "The pay link lapsed with the booking's hold."),
    "nothing_to_refund": ProblemCode(409, "Nothing paid is left to refund."),
    "webhook_rejected": ProblemCode(401, "Unsigned or wrongly signed: nothing was applied."),
    "verify_token_rejected": ProblemCode(
        403, "Not this webhook's verify token (Meta's subscription handshake)."
    ),
    "redirect_rejected": ProblemCode(401, "The return address's signature does not match."),
    # Outgoing webhooks
    "webhook_endpoint_not_found": ProblemCode(404, "No such webhook endpoint in this business."),
    "webhook_message_not_found": ProblemCode(404, "No such message of this webhook endpoint."),
    "too_many_webhook_endpoints": ProblemCode(409, "The business has `limit` webhook endpoints already."),
    "webhook_endpoint_disabled": ProblemCode(409, "The endpoint is disabled: enable it first."),
}

# The slot rules a booking request can break (422, or 409 when the slot is taken).
_SLOT_RULES: dict[str, ProblemCode] = {
    rule.value: ProblemCode(409 if rule is SlotRule.SLOT_UNAVAILABLE else 422, RULE_MESSAGES[rule])
    for rule in SlotRule
}

CODES: dict[str, ProblemCode] = {**_DOMAIN, **_SLOT_RULES}


def shared_codes(
    status: int, *, signed_in: bool, in_business: bool, idempotent: bool, conditional: bool
) -> list[str]:
    """The codes every operation answering `status` shares, by what it takes: a token
    (`signed_in`), a business named in its path (`in_business`), an `Idempotency-Key`
    (`idempotent`) or an `If-Match` (`conditional`) header."""
    shared = {
        401: ["unauthorized", "invalid_token"] if signed_in else [],
        403: ["insufficient_role"] if signed_in else [],
        404: ["business_not_found"] if in_business else [],
        409: ["idempotency_key_in_flight"] if idempotent else [],
        412: ["version_mismatch"] if conditional else [],
        413: ["body_too_large"],
        422: ["validation_failed", "invalid_value"],
        429: ["too_many_requests"],
        500: ["internal_error"],
        503: ["database_unavailable"],
    }
    return shared.get(status, [])
