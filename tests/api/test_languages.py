"""Which language a customer's browser asks for (pure)."""

from __future__ import annotations

import pytest

from booklnk.api.languages import preferred_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ar-EG,ar;q=0.9,en;q=0.8", "ar"),
        ("en-GB,en;q=0.9,ar;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,ar;q=0.5,en;q=0.4", "ar"),
        ("en;q=0.2, ar;q=0.7", "ar"),
        ("AR", "ar"),
        ("ar;q=0, en", "en"),
        ("de, fr", "en"),
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("ar;q=banana, en;q=0.1", "en"),
        ("en, ar", "en"),  # a tie goes to the first named
    ],
)
def test_the_highest_weighted_supported_language_wins(header: str | None, expected: str) -> None:
    assert preferred_language(header, ("ar", "en"), "en") == expected


def test_a_huge_header_is_cut_not_parsed_in_full() -> None:
    assert preferred_language("xx," * 100_000 + "ar", ("ar", "en"), "en") == "en"
