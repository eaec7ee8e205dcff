"""Tenancy's error kinds, each with a stable code."""

from __future__ import annotations

from booklnk.kernel.errors import BooklnkError, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class InvalidToken(Unauthorized):
    code = "invalid_token"


class InvalidCode(BooklnkError):
    """A one-time code that is wrong, expired, used, voided by a newer one, or tried too
    often; which of these is never said (it would help whoever is guessing)."""

    code = "invalid_code"


class WrongPassword(Forbidden):
    """The current password, asked again before it is changed, is not the account's."""

    code = "wrong_password"


class SlugTaken(Conflict):
    code = "slug_taken"


class BusinessNotFound(NotFound):
    code = "business_not_found"


class InsufficientRole(Forbidden):
    code = "insufficient_role"


class InvitationNotFound(NotFound):
    code = "invitation_not_found"


class InvitationUnusable(Conflict):
    code = "invitation_unusable"


class MemberNotFound(NotFound):
    code = "member_not_found"


class LastOwner(Conflict):
    code = "last_owner"


class LoginThrottled(TooManyRequests):
    """Too many failed logins of this account from this address, or from this address."""

    code = "login_throttled"


class AccountHasRoles(Conflict):
    """An account that works at a business is not deleted: its owner removes it first (or,
    for an owner, hands the business over), so no business loses its last owner unseen."""

    code = "account_has_roles"


class InvitationPending(Conflict):
    """The address has an invitation to this business still open (`invitation_id`)."""

    code = "invitation_pending"
