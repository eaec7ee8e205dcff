"""The CSRF token as pages carry it: masked with a fresh pad each time (a compressed page
never repeats the secret), and only a mask of the browser's own token passes."""

from __future__ import annotations

import secrets

from hypothesis import given
from hypothesis import strategies as st

from booklnk.web.session import mask, unmask

TOKENS = st.builds(lambda n: secrets.token_urlsafe(n), st.integers(min_value=15, max_value=75))


@given(TOKENS)
def test_a_masked_token_unmasks_to_itself_and_never_shows_it(token: str) -> None:
    first, second = mask(token), mask(token)
    assert unmask(first) == unmask(second) == token
    assert first != second
    assert token not in first


@given(st.text(max_size=200))
def test_anything_else_unmasks_to_nothing_or_to_something_else(sent: str) -> None:
    token = secrets.token_urlsafe(32)
    assert unmask(sent) != token
