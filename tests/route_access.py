"""Who may call each route: the table the authorization matrix and the tenant-wall tests
are generated from. A new route must get a line here (test_every_route_has_an_entry)."""

from __future__ import annotations

import enum


class Access(enum.Enum):
    PUBLIC = "anyone, signed in or not"
    PROVIDER = "anyone, but only a provider's signature gets past the guard (a token does not)"
    SIGNED_IN = "any signed-in user (a customer)"
    STAFF = "staff or owner of the business"
    OWNER = "owner of the business"
    ADMIN = "platform admin"


ACCESS: dict[tuple[str, str], Access] = {
    ("POST", "/v1/auth/register"): Access.PUBLIC,
    ("POST", "/v1/auth/register/verify"): Access.PUBLIC,
    ("POST", "/v1/auth/password-reset"): Access.PUBLIC,
    ("POST", "/v1/auth/password-reset/confirm"): Access.PUBLIC,
    ("POST", "/v1/auth/login"): Access.PUBLIC,
    ("POST", "/v1/auth/refresh"): Access.PUBLIC,
    ("POST", "/v1/auth/logout"): Access.PUBLIC,
    ("POST", "/v1/auth/code"): Access.PUBLIC,
    ("POST", "/v1/auth/code/verify"): Access.PUBLIC,
    ("GET", "/v1/me"): Access.SIGNED_IN,
    ("PATCH", "/v1/me"): Access.SIGNED_IN,
    ("POST", "/v1/me/password"): Access.SIGNED_IN,
    ("POST", "/v1/me/logout-all"): Access.SIGNED_IN,
    ("POST", "/v1/me/phone"): Access.SIGNED_IN,
    ("POST", "/v1/me/phone/verify"): Access.SIGNED_IN,
    ("DELETE", "/v1/me/phone"): Access.SIGNED_IN,
    ("GET", "/v1/business-types"): Access.PUBLIC,
    ("GET", "/v1/business-types/{key}"): Access.PUBLIC,
    ("POST", "/v1/business-types"): Access.ADMIN,
    ("POST", "/v1/businesses"): Access.SIGNED_IN,
    ("GET", "/v1/businesses"): Access.SIGNED_IN,
    ("GET", "/v1/businesses/{business_id}"): Access.SIGNED_IN,
    ("PATCH", "/v1/businesses/{business_id}"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/members"): Access.OWNER,
    ("DELETE", "/v1/businesses/{business_id}/members/{user_id}"): Access.OWNER,
    ("POST", "/v1/businesses/{business_id}/invitations"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/invitations"): Access.OWNER,
    ("DELETE", "/v1/businesses/{business_id}/invitations/{invitation_id}"): Access.OWNER,
    ("POST", "/v1/businesses/{business_id}/invitations/accept"): Access.SIGNED_IN,
    # Catalog. Time off: staff pass the guard, then may touch only their own (tests/catalog).
    ("GET", "/v1/businesses/{business_id}/services"): Access.SIGNED_IN,
    ("POST", "/v1/businesses/{business_id}/services"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/services/{service_id}"): Access.SIGNED_IN,
    ("PATCH", "/v1/businesses/{business_id}/services/{service_id}"): Access.OWNER,
    ("DELETE", "/v1/businesses/{business_id}/services/{service_id}"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/staff"): Access.SIGNED_IN,
    ("POST", "/v1/businesses/{business_id}/staff"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/staff/{staff_id}"): Access.SIGNED_IN,
    ("PATCH", "/v1/businesses/{business_id}/staff/{staff_id}"): Access.OWNER,
    ("DELETE", "/v1/businesses/{business_id}/staff/{staff_id}"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/resources"): Access.SIGNED_IN,
    ("POST", "/v1/businesses/{business_id}/resources"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/resources/{resource_id}"): Access.SIGNED_IN,
    ("PATCH", "/v1/businesses/{business_id}/resources/{resource_id}"): Access.OWNER,
    ("DELETE", "/v1/businesses/{business_id}/resources/{resource_id}"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/weekly-schedule"): Access.STAFF,
    ("PUT", "/v1/businesses/{business_id}/weekly-schedule"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/date-overrides"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/date-overrides"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/date-overrides/{override_id}"): Access.STAFF,
    ("PUT", "/v1/businesses/{business_id}/date-overrides/{override_id}"): Access.OWNER,
    ("DELETE", "/v1/businesses/{business_id}/date-overrides/{override_id}"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/staff/{staff_id}/weekly-schedule"): Access.STAFF,
    ("PUT", "/v1/businesses/{business_id}/staff/{staff_id}/weekly-schedule"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/staff/{staff_id}/date-overrides"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/staff/{staff_id}/date-overrides"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/staff/{staff_id}/date-overrides/{override_id}"): Access.STAFF,
    ("PUT", "/v1/businesses/{business_id}/staff/{staff_id}/date-overrides/{override_id}"): Access.OWNER,
    ("DELETE", "/v1/businesses/{business_id}/staff/{staff_id}/date-overrides/{override_id}"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/staff/{staff_id}/time-off"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/staff/{staff_id}/time-off"): Access.STAFF,
    ("GET", "/v1/businesses/{business_id}/staff/{staff_id}/time-off/{time_off_id}"): Access.STAFF,
    ("PUT", "/v1/businesses/{business_id}/staff/{staff_id}/time-off/{time_off_id}"): Access.STAFF,
    ("DELETE", "/v1/businesses/{business_id}/staff/{staff_id}/time-off/{time_off_id}"): Access.STAFF,
    ("GET", "/v1/businesses/{business_id}/resources/{resource_id}/weekly-schedule"): Access.STAFF,
    ("PUT", "/v1/businesses/{business_id}/resources/{resource_id}/weekly-schedule"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/resources/{resource_id}/date-overrides"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/resources/{resource_id}/date-overrides"): Access.OWNER,
    (
        "GET",
        "/v1/businesses/{business_id}/resources/{resource_id}/date-overrides/{override_id}",
    ): Access.STAFF,
    (
        "PUT",
        "/v1/businesses/{business_id}/resources/{resource_id}/date-overrides/{override_id}",
    ): Access.OWNER,
    (
        "DELETE",
        "/v1/businesses/{business_id}/resources/{resource_id}/date-overrides/{override_id}",
    ): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/resources/{resource_id}/time-off"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/resources/{resource_id}/time-off"): Access.STAFF,
    ("GET", "/v1/businesses/{business_id}/resources/{resource_id}/time-off/{time_off_id}"): Access.STAFF,
    ("PUT", "/v1/businesses/{business_id}/resources/{resource_id}/time-off/{time_off_id}"): Access.STAFF,
    ("DELETE", "/v1/businesses/{business_id}/resources/{resource_id}/time-off/{time_off_id}"): Access.STAFF,
    # Bookings. Customers pass the guard to book, read, move and cancel; past it they see
    # and change only their own bookings. Every other status change, and money taken at the
    # desk, is the business's: refused at the guard (tests/booking).
    ("GET", "/v1/businesses/{business_id}/availability"): Access.SIGNED_IN,
    ("GET", "/v1/businesses/{business_id}/availability/compact"): Access.SIGNED_IN,
    ("POST", "/v1/businesses/{business_id}/bookings"): Access.SIGNED_IN,
    ("GET", "/v1/businesses/{business_id}/bookings/{booking_id}"): Access.SIGNED_IN,
    ("GET", "/v1/businesses/{business_id}/bookings/{booking_id}/messages"): Access.STAFF,
    ("POST", "/v1/me/delete"): Access.SIGNED_IN,
    ("GET", "/v1/businesses/{business_id}/audit-events"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/exports/bookings.csv"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/exports/customers.csv"): Access.OWNER,
    ("POST", "/v1/businesses/{business_id}/customers"): Access.STAFF,
    ("GET", "/v1/businesses/{business_id}/customers"): Access.STAFF,
    ("GET", "/v1/businesses/{business_id}/customers/{customer_id}"): Access.STAFF,
    ("PATCH", "/v1/businesses/{business_id}/customers/{customer_id}"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/reschedule"): Access.SIGNED_IN,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/confirm"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/cancel"): Access.SIGNED_IN,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/check-in"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/complete"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/no-show"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/undo-check-in"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/undo-no-show"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/desk-payments"): Access.STAFF,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/desk-refunds"): Access.STAFF,
    # Lists and calendars (booking/listing.py). The business list is staff-only; the .ics
    # export passes any signed-in user, then only the booking's customer or the business's
    # staff get past service.get_booking (404 otherwise). Feed tokens: staff pass the guard,
    # then manage only their own linked staff member's feed (owners any); the feed itself
    # needs no sign-in: the token in the URL is the secret (unknown token: 404).
    ("GET", "/v1/businesses/{business_id}/bookings"): Access.STAFF,
    ("GET", "/v1/me/bookings"): Access.SIGNED_IN,
    ("GET", "/v1/businesses/{business_id}/bookings/{booking_id}/ics"): Access.SIGNED_IN,
    ("POST", "/v1/businesses/{business_id}/staff/{staff_id}/calendar-feed"): Access.STAFF,
    ("DELETE", "/v1/businesses/{business_id}/staff/{staff_id}/calendar-feed"): Access.STAFF,
    ("GET", "/v1/calendar-feeds/{token}.ics"): Access.PUBLIC,
    # Payments: checkout by the booking's customer or the business (service.get_booking);
    # Kashier's webhook and the browser return are signed by Kashier, not by a token.
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/payments"): Access.SIGNED_IN,
    ("GET", "/v1/businesses/{business_id}/bookings/{booking_id}/payments"): Access.SIGNED_IN,
    ("POST", "/v1/businesses/{business_id}/bookings/{booking_id}/refunds"): Access.OWNER,
    ("POST", "/v1/webhooks/kashier"): Access.PUBLIC,
    ("GET", "/v1/webhooks/whatsapp"): Access.PROVIDER,
    ("POST", "/v1/webhooks/whatsapp"): Access.PROVIDER,
    ("POST", "/v1/webhooks/cequens"): Access.PROVIDER,
    # A pay link is its own credential: without one of ours, 404 for everybody.
    ("GET", "/v1/pay/{token}"): Access.PROVIDER,
    ("POST", "/v1/pay/{token}"): Access.PROVIDER,
    ("GET", "/v1/businesses/{business_id}/reconciliation-runs"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/reconciliation-runs/{run_id}/mismatches"): Access.OWNER,
    ("GET", "/v1/payments/kashier/return"): Access.PUBLIC,
    # Outgoing webhooks: an owner's endpoints, their delivery log and redelivery.
    ("POST", "/v1/businesses/{business_id}/webhook-endpoints"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/webhook-endpoints"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/webhook-endpoints/{endpoint_id}"): Access.OWNER,
    ("PATCH", "/v1/businesses/{business_id}/webhook-endpoints/{endpoint_id}"): Access.OWNER,
    ("DELETE", "/v1/businesses/{business_id}/webhook-endpoints/{endpoint_id}"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/webhook-endpoints/{endpoint_id}/messages"): Access.OWNER,
    (
        "POST",
        "/v1/businesses/{business_id}/webhook-endpoints/{endpoint_id}/messages/{message_id}/redeliver",
    ): Access.OWNER,
    # A business's public booking page, by slug: anyone, rate-limited per address (tests/api).
    ("GET", "/v1/public/businesses/{slug}"): Access.PUBLIC,
    ("GET", "/v1/public/businesses/{slug}/services"): Access.PUBLIC,
    ("GET", "/v1/public/businesses/{slug}/staff"): Access.PUBLIC,
    ("GET", "/v1/public/businesses/{slug}/opening-hours"): Access.PUBLIC,
    ("GET", "/v1/public/businesses/{slug}/availability"): Access.PUBLIC,
    ("GET", "/v1/public/businesses/{slug}/class-sessions"): Access.PUBLIC,
    # Classes (class mode). Seats and waitlists: customers act for themselves (staff may
    # name a customer); leaving a waitlist: its customer or the business (tests/booking/classes).
    ("POST", "/v1/businesses/{business_id}/class-series"): Access.OWNER,
    ("PATCH", "/v1/businesses/{business_id}/class-series/{series_id}"): Access.OWNER,
    ("POST", "/v1/businesses/{business_id}/class-series/{series_id}/cancel"): Access.OWNER,
    ("GET", "/v1/businesses/{business_id}/class-sessions"): Access.SIGNED_IN,
    ("GET", "/v1/businesses/{business_id}/class-sessions/{session_id}"): Access.SIGNED_IN,
    ("PATCH", "/v1/businesses/{business_id}/class-sessions/{session_id}"): Access.OWNER,
    ("POST", "/v1/businesses/{business_id}/class-sessions/{session_id}/cancel"): Access.OWNER,
    ("POST", "/v1/businesses/{business_id}/class-sessions/{session_id}/bookings"): Access.SIGNED_IN,
    ("POST", "/v1/businesses/{business_id}/class-sessions/{session_id}/waitlist"): Access.SIGNED_IN,
    ("GET", "/v1/businesses/{business_id}/class-sessions/{session_id}/waitlist"): Access.STAFF,
    (
        "DELETE",
        "/v1/businesses/{business_id}/class-sessions/{session_id}/waitlist/{entry_id}",
    ): Access.SIGNED_IN,
}
