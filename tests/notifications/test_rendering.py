"""Messages' words in Arabic and English, from the packaged templates (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import UndefinedError

from booklnk.notifications.rendering import LANGUAGES, render
from booklnk.notifications.sms import segments

TEMPLATES = Path(__file__).parents[2] / "src/booklnk/notifications/templates"
PARAMS = {
    "name": "Hany & Sons <Ltd>",
    "code": "048213",
    "minutes": 15,
    "business": "Cairo Cuts",
    "service": "Cut",
    "starts_at": "2026-11-26T08:00:00+00:00",
    "time_zone": "Africa/Cairo",
    "price_minor": 15_000,
    "currency": "EGP",
    "phone": "+201001234567",
    "until": "2026-11-24T09:15:00+00:00",
    "amount_minor": 7_500,
    "inviter": "Hany",
    "role": "staff",
    "token": "inv_" + "t" * 40,
    "accept_path": "/v1/businesses/b/invitations/accept",
    "expires_at": "2026-12-01T09:00:00+00:00",
    # As long as a real one: 70 characters of sealed token.
    "pay_url": "https://book.example.com/v1/pay/" + "x" * 70,
    # A disabled webhook endpoint's.
    "url": "https://hooks.cairocuts.example/booklnk",
    "gone": False,
    "since": "2026-11-19T09:00:00+00:00",
}
NAMES = sorted({p.name.split(".")[0] for p in TEMPLATES.glob("*.jinja") if not p.name.startswith("_")})


def test_every_template_exists_in_both_languages() -> None:
    for name in NAMES:
        for language in LANGUAGES:
            assert (TEMPLATES / f"{name}.{language}.jinja").exists(), (name, language)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_renders_a_subject_a_text_and_a_page_in_its_direction(name: str, language: str) -> None:
    rendered = render(name, language, PARAMS)
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in rendered.html
    assert "<bdi>" not in rendered.text
    assert rendered.short.strip()
    assert "\n" not in rendered.short
    if "{{ name" in (TEMPLATES / f"{name}.{language}.jinja").read_text():
        # Escaped in the page, as written in the text.
        assert "Hany &amp; Sons &lt;Ltd&gt;" in rendered.html
        assert "Hany & Sons <Ltd>" in rendered.text


def test_a_latin_name_in_arabic_text_is_isolated_from_its_direction() -> None:
    rendered = render("password_reset_code", "ar", PARAMS)
    assert "\u2068Hany & Sons <Ltd>\u2069" in rendered.text
    assert "<bdi>Hany &amp; Sons &lt;Ltd&gt;</bdi>" in rendered.html
    title = rendered.html.split("<title>")[1].split("</title>")[0]
    assert "<bdi>" not in title


def test_the_code_and_its_lifetime_are_in_the_message() -> None:
    english = render("password_reset_code", "en", PARAMS)
    assert english.subject.startswith("048213")
    assert "15 minutes" in english.text
    arabic = render("password_reset_code", "ar", {**PARAMS, "minutes": 2})
    assert "048213" in arabic.subject
    assert "دقيقتان" in arabic.text  # Arabic's dual, from Babel's plural rules


def test_a_booking_is_told_in_its_business_local_time_and_money() -> None:
    english = render("booking_confirmed", "en", PARAMS)
    assert "Thursday, November 26, 2026" in english.subject
    assert "10:00" in english.subject  # 08:00 UTC is 10:00 in Cairo
    assert "EGP150.00" in english.text
    arabic = render("booking_confirmed", "ar", PARAMS)
    assert "الخميس، 26 نوفمبر 2026" in arabic.subject
    assert "10:00 ص" in arabic.text
    assert "ج.م." in arabic.text


def test_a_missing_blank_is_an_error_never_an_empty_space() -> None:
    with pytest.raises(UndefinedError):
        render("registration_code", "en", {"minutes": 15})


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        render("registration_code", "fr", PARAMS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_text_message_fits_two_segments_and_english_stays_gsm7(name: str, language: str) -> None:
    """An SMS is paid per segment: English in GSM-7 (160 characters), Arabic in UCS-2 (70).
    A pay link takes a hundred characters of its own: three segments in Arabic."""
    short = segments(render(name, language, {**PARAMS, "name": "Omar"}).short)
    with_link = "pay_url" in (TEMPLATES / f"{name}.{language}.jinja").read_text()
    assert short.count <= (3 if with_link and language == "ar" else 2), (name, language, short)
    if language == "en":
        assert short.encoding == "gsm7", name
