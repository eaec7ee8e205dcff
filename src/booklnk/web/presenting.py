"""How the pages say things (pure): weekdays, wall-clock times, the day strip, a business's
rules in a sentence, and a schema's questions as form fields. Babel writes every number,
name and time in Egypt's Arabic or English."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from babel.dates import format_date, format_skeleton, format_time, get_day_names
from babel.numbers import format_percent
from babel.units import format_unit

from booklnk.business_types.definition import EffectiveRules
from booklnk.web.words import WORDS

LOCALES = {"ar": "ar_EG", "en": "en"}
# Egypt's week starts on Saturday (Babel counts weekdays from Monday, 0).
WEEK_FROM_SATURDAY = (5, 6, 0, 1, 2, 3, 4)
# The day strip: today and the days after it a customer can pick from without a calendar.
STRIP_DAYS = 14


@dataclass(frozen=True, slots=True)
class StripDay:
    day: date
    label: str  # "Today", "Tomorrow", or "Thu 10"


def weekday_name(weekday: int, language: str) -> str:
    """0 = Monday .. 6 = Sunday, in full: "الاثنين", "Monday"."""
    return str(get_day_names("wide", locale=LOCALES[language])[weekday])


def wall_clock(minutes: int, language: str) -> str:
    """Minutes after local midnight as people read a time: "9:30 AM", "9:30 ص" (24:00: midnight)."""
    at = time(0, 0) if minutes >= 24 * 60 else time(minutes // 60, minutes % 60)
    return str(format_time(at, "short", locale=LOCALES[language]))


def day_strip(today: date, language: str, days: int = STRIP_DAYS) -> list[StripDay]:
    """`days` consecutive days from `today`, each with the label a customer reads."""
    words = WORDS[language]
    strip = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        label = (
            words["today"]
            if offset == 0
            else words["tomorrow"]
            if offset == 1
            else str(format_skeleton("MMMEd", day, locale=LOCALES[language]))
        )
        strip.append(StripDay(day, label))
    return strip


def long_date(day: date, language: str) -> str:
    return str(format_date(day, "full", locale=LOCALES[language]))


def duration(minutes: int, language: str) -> str:
    """ "45 minutes", "1 hour 30 minutes" in the locale's plural forms."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(format_unit(hours, "duration-hour", length="long", locale=LOCALES[language]))
    if rest or not hours:
        parts.append(format_unit(rest, "duration-minute", length="long", locale=LOCALES[language]))
    return (" و" if language == "ar" else " ").join(parts)


def cancellation_rule(rules: EffectiveRules, language: str) -> str:
    """The rule a customer accepts by booking, in one sentence."""
    words = WORDS[language]
    first = words["free_cancel"].format(window=duration(rules.cancellation_window_minutes, language))
    late = rules.late_cancellation_refund_percent
    if late is None:
        second = words["late_no_refund"]
    elif late == 0:
        second = words["late_nothing"]
    else:
        second = words["late_refund"].format(percent=format_percent(late / 100, locale=LOCALES[language]))
    return f"{first}{'، ' if language == 'ar' else '; '}{second}."


@dataclass(frozen=True, slots=True)
class Question:
    """One of a business type's booking questions, as a form field."""

    name: str
    label: str
    hint: str
    kind: str  # text, number, checkbox, select
    required: bool
    max_length: int | None
    options: list[str]


def questions(schema: Mapping[str, Any], language: str) -> list[Question]:
    """The booking-field schema's properties as form fields, labelled in `language` (a
    type's `title_ar` / `description_ar`, else its English)."""
    required = set(schema.get("required", []))
    found = []
    for name, spec in dict(schema.get("properties", {})).items():
        kind = {"integer": "number", "number": "number", "boolean": "checkbox"}.get(spec.get("type"), "text")
        options = [str(o) for o in spec.get("enum", [])]
        suffix = "_ar" if language == "ar" else ""
        found.append(
            Question(
                name=name,
                label=str(spec.get(f"title{suffix}") or spec.get("title") or name),
                hint=str(spec.get(f"description{suffix}") or spec.get("description") or ""),
                kind="select" if options else kind,
                required=name in required,
                max_length=spec.get("maxLength"),
                options=options,
            )
        )
    return found


def answers(schema: Mapping[str, Any], posted: Mapping[str, str]) -> dict[str, Any]:
    """A form's answers as the schema's types (the schema itself then judges them): an
    empty optional field is left out, a number that is not one stays text (and fails)."""
    values: dict[str, Any] = {}
    for name, spec in dict(schema.get("properties", {})).items():
        raw = posted.get(f"q_{name}", "")
        kind = spec.get("type")
        if kind == "boolean":
            values[name] = raw == "on"
            continue
        if raw == "":
            continue
        if kind in ("integer", "number"):
            try:
                values[name] = int(raw) if kind == "integer" else float(raw)
            except ValueError:
                values[name] = raw
            continue
        values[name] = raw
    return values


def local_midnight(day: date, zone: Any) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)
