"""Domain errors that carry their own HTTP status and stable code.

Every expected failure raises a subclass of ``BooklnkError``; the API layer renders it as
RFC 9457 problem+json in one place, so domains never import HTTP code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One broken rule on one input field (``field`` is a dotted path, e.g. ``body.price``)."""

    field: str
    rule: str
    message: str


class BooklnkError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        issues: list[FieldIssue] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]  # per-instance refinement of the class code
        self.issues = issues or []
        self.extra = extra or {}


class ValidationFailed(BooklnkError):
    status = 422
    code = "validation_failed"
    title = "Validation failed"

    @classmethod
    def on(cls, field: str, rule: str, message: str) -> ValidationFailed:
        """The common case: one field broke one rule."""
        return cls(message, issues=[FieldIssue(field, rule, message)])


class Unauthorized(BooklnkError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(BooklnkError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(BooklnkError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(BooklnkError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(BooklnkError):
    status = 412
    code = "precondition_failed"
    title = "Precondition failed"


class VersionMismatch(PreconditionFailed):
    """`If-Match` named an older version of what is being changed."""

    code = "version_mismatch"


class TooManyRequests(BooklnkError):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, extra={"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds
