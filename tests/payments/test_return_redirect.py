"""Where the browser return sends the customer (issue 10, "Checkout return"): the outcome
it reports and the stored page it goes to. Pure."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest

from booklnk.payments.models import AttemptStatus
from booklnk.payments.returns import location, outcome

BOOKING = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.mark.parametrize(
    ("status", "said", "expected"),
    [
        (AttemptStatus.PAID, "SUCCESS", "paid"),
        (AttemptStatus.STARTED, "SUCCESS", "pending"),  # the webhook has not been applied yet
        (AttemptStatus.STARTED, "FAILURE", "failed"),
        (AttemptStatus.STARTED, "CANCELLED", "failed"),
        (AttemptStatus.FAILED, "SUCCESS", "failed"),
        (AttemptStatus.PENDING, "PENDING", "pending"),  # Fawry: a reference, no cash yet
        (AttemptStatus.FLAGGED, "SUCCESS", "pending"),
        (AttemptStatus.PAID, "FAILURE", "paid"),  # what we recorded wins over the browser's query
    ],
)
def test_the_outcome(status: AttemptStatus, said: str, expected: str) -> None:
    assert outcome(status, said) == expected


def test_the_parameters_are_added_to_the_pages_own() -> None:
    got = location("https://book.example.com/done?ref=7&outcome=x#top", None, BOOKING, "paid")
    assert got is not None
    split = urlsplit(got)
    assert (split.netloc, split.path, split.fragment) == ("book.example.com", "/done", "top")
    assert parse_qsl(split.query) == [("ref", "7"), ("booking_id", str(BOOKING)), ("outcome", "paid")]


def test_a_failure_goes_to_the_cancel_page_when_there_is_one() -> None:
    done, cancel = "https://b.example.com/done", "https://b.example.com/cancel"
    assert location(done, cancel, BOOKING, "failed") == f"{cancel}?booking_id={BOOKING}&outcome=failed"
    assert location(done, None, BOOKING, "failed") == f"{done}?booking_id={BOOKING}&outcome=failed"
    assert location(done, cancel, BOOKING, "pending") == f"{done}?booking_id={BOOKING}&outcome=pending"
    assert location(None, cancel, BOOKING, "paid") is None  # no return page: the JSON answer
    assert location(None, None, BOOKING, "failed") is None
