"""Errors for a broken slot rule: 422 naming the rule, or 409 when the slot is taken."""

from __future__ import annotations

from booklnk.kernel.errors import BooklnkError, Conflict, FieldIssue, ValidationFailed
from booklnk.scheduling.rules import RULE_MESSAGES, SlotRule


class SlotRuleBroken(ValidationFailed):
    """The request can never succeed as asked (off the grid, in the past, ...): 422."""


class SlotUnavailable(Conflict):
    """The slot exists but someone holds it: 409, the client may pick another."""

    code = "slot_unavailable"
    title = "Slot unavailable"


def slot_error(rule: SlotRule, *, field: str, message: str | None = None) -> BooklnkError:
    """The error to raise for `rule`, its issue placed at `field` (e.g. ``body.start_at``)."""
    text = message or RULE_MESSAGES[rule]
    if rule is SlotRule.SLOT_UNAVAILABLE:
        return SlotUnavailable(text, issues=[FieldIssue(field, rule.value, text)])
    return SlotRuleBroken(text, code=rule.value, issues=[FieldIssue(field, rule.value, text)])
