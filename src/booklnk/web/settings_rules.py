"""An owner's business rules within the type's bounds: booking rules, payment policy and
notification settings, one form per section. The form is generated from the business
type's definition (what it lets a business override, and within which bounds); each save
goes through `tenancy.service.update_business`, which checks the overrides against the
type exactly as the API does, so a refused value names its field and changes nothing.

A value equal to the type's default is not stored as an override: a later change of the
type's default then reaches the business, as it would have had the owner never saved."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Final

from babel.numbers import format_decimal, format_percent
from babel.units import format_unit
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from booklnk.business_types import service as business_types
from booklnk.business_types.definition import BusinessTypeDefinition, EffectiveRules
from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.service import BusinessChanges, get_business, update_business
from booklnk.web import presenting, rendering
from booklnk.web.guard import FormDep, OwnerDep, SessionDep, WebRoute, language_of, see_other
from booklnk.web.words import WORDS

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SECTIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "booking": (
        "buffer_before_minutes",
        "buffer_after_minutes",
        "min_notice_minutes",
        "horizon_days",
        "cancellation_window_minutes",
        "late_cancellation_refund_percent",
        "max_unpaid_holds_per_customer",
        "max_bookings_per_customer_per_day",
        "check_in_opens_minutes",
        "no_show_grace_minutes",
        "undo_window_minutes",
        "default_capacity",
    ),
    "payment": ("payment_policy", "deposit_percent", "payment_methods", "checkout_hold_minutes"),
    "notifications": (
        "first_reminder_minutes",
        "second_reminder_minutes",
        "quiet_hours_start",
        "quiet_hours_end",
    ),
}
Section = Annotated[str, Path(pattern="^(booking|payment|notifications)$")]
Saved = Annotated[str | None, Query(pattern="^(booking|payment|notifications|reset)$")]

# How each integer rule is read and written; the rest are minutes.
KINDS: Final[Mapping[str, str]] = {
    "horizon_days": "days",
    "late_cancellation_refund_percent": "percent",
    "deposit_percent": "percent",
    "max_unpaid_holds_per_customer": "count",
    "max_bookings_per_customer_per_day": "count",
    "default_capacity": "count",
    "quiet_hours_start": "hour",
    "quiet_hours_end": "hour",
    "payment_policy": "policy",
    "payment_methods": "methods",
}
# A span of minutes is typed in the unit the owner picks beside it (a week is 7 days,
# not 10080 minutes).
UNITS: Final[Mapping[str, int]] = {"minutes": 1, "hours": 60, "days": 1440}
# Up to six digits, ASCII or Arabic-Indic (an Arabic keyboard types ٣٠): Python reads both.
WHOLE_NUMBER = re.compile(r"\d{1,6}")


@dataclass(frozen=True, slots=True)
class RuleField:
    """One rule as the page shows it: editable within its bounds, or fixed by the type."""

    name: str
    kind: str
    editable: bool
    current: str  # the effective value, as people read it
    default: str  # the type's default, likewise
    bounds: str  # "between … and …" (editable only)
    value: str = ""  # what the input holds (in `unit` for spans of minutes)
    unit: str = "minutes"
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    checked: frozenset[str] = frozenset()
    error: str | None = None


@router.get("/desk/{business_id}/settings/rules")
async def rules_page(
    request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep, saved: Saved = None
) -> Response:
    return await _page(request, tx, ctx, saved=saved)


@router.post("/desk/{business_id}/settings/rules/reset")
async def reset_rules(
    request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep, _: FormDep
) -> Response:
    await update_business(tx, ctx, BusinessChanges(rule_overrides={}))
    return see_other(f"/{language_of(request)}/desk/{business_id}/settings/rules?saved=reset")


@router.post("/desk/{business_id}/settings/rules/{section}")
async def save_section(
    request: Request,
    business_id: uuid.UUID,
    section: Section,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    language = language_of(request)
    definition = business_types.parse_stored(ctx.definition_text)
    values, errors = _posted_values(section, definition, posted, language)
    if not errors:
        overrides = _merged(section, definition, ctx.overrides, values)
        require_phone = posted.get("require_phone") == "on" if section == "notifications" else None
        try:
            await update_business(
                tx, ctx, BusinessChanges(rule_overrides=overrides, require_phone=require_phone)
            )
        except ValidationFailed as refused:
            errors = _problems(refused, section, definition, language)
    if errors:
        return await _page(request, tx, ctx, posted=posted, section=section, errors=errors, status_code=422)
    return see_other(f"/{language}/desk/{business_id}/settings/rules?saved={section}#{section}")


def _editable(definition: BusinessTypeDefinition, section: str) -> list[str]:
    return [rule for rule in SECTIONS[section] if rule in definition.overridable.rules]


def _posted_values(
    section: str, definition: BusinessTypeDefinition, posted: Mapping[str, str], language: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The section's values as posted (an empty box: the type's default), or the fields
    that are not whole numbers. Bounds are the domain's to judge, not the page's."""
    words = WORDS[language]
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for rule in _editable(definition, section):
        kind = KINDS.get(rule, "minutes")
        if kind == "policy":
            if chosen := posted.get(rule, "")[:20]:
                values[rule] = chosen
        elif kind == "methods":
            allowed = definition.overridable.payment_methods
            values[rule] = [
                m for m in (allowed.allowed if allowed else ()) if posted.get(f"method_{m}") == "on"
            ]
        elif raw := posted.get(rule, "").strip():
            factor = UNITS.get(posted.get(f"{rule}_unit", "minutes"), 0) if kind == "minutes" else 1
            if not WHOLE_NUMBER.fullmatch(raw) or not factor:
                errors[rule] = words["rules_whole_number"]
            else:
                values[rule] = int(raw) * factor
    policy = values.get("payment_policy", definition.payment.policy)
    if policy != "deposit":  # the percent is for a deposit only: a stale one is not kept
        values.pop("deposit_percent", None)
    return values, errors


def _merged(
    section: str, definition: BusinessTypeDefinition, overrides: Mapping[str, Any], values: Mapping[str, Any]
) -> dict[str, Any]:
    """The business's overrides with this section's replaced; a value equal to the type's
    default is dropped (the business follows the type there)."""
    defaults = definition.default_rules()
    kept = {rule: value for rule, value in overrides.items() if rule not in SECTIONS[section]}
    for rule, value in values.items():
        default = getattr(defaults, rule)
        same = set(value) == set(default) if rule == "payment_methods" else value == default
        if not same:
            kept[rule] = value
    return kept


def _problems(
    refused: ValidationFailed, section: str, definition: BusinessTypeDefinition, language: str
) -> dict[str, str]:
    """Each issue (`body.rule_overrides.<rule>`) next to its field, in the reader's words."""
    words = WORDS[language]
    errors: dict[str, str] = {}
    for issue in refused.issues:
        rule = issue.field.rsplit(".", 1)[-1]
        bounds = definition.overridable.int_bounds(rule)
        if issue.rule == "out_of_bounds" and bounds is not None:
            text = words["rules_out_of_bounds"].format(
                low=_humane(rule, bounds.min, language), high=_humane(rule, bounds.max, language)
            )
        else:
            text = words.get(f"rules_problem_{issue.rule}", words["rules_problem_other"])
        errors[rule if rule in SECTIONS[section] else "_section"] = text
    return errors or {"_section": words["rules_problem_other"]}


async def _page(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    *,
    saved: str | None = None,
    posted: Mapping[str, str] | None = None,
    section: str | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    definition = business_types.parse_stored(ctx.definition_text)
    business = await get_business(tx, ctx.business_id)
    sections = []
    for name in SECTIONS:
        mine = posted if name == section else None
        fields = _fields(name, definition, ctx.rules, language, mine, errors if name == section else None)
        sections.append(
            {
                "name": name,
                "editable": [f for f in fields if f.editable],
                "fixed": [f for f in fields if not f.editable],
            }
        )
    words = WORDS[language]
    return rendering.page(
        request,
        language,
        "settings_rules.html",
        status_code=status_code,
        business=business,
        type_name=definition.name_ar if language == "ar" and definition.name_ar else definition.name,
        sections=sections,
        section_error=(errors or {}).get("_section"),
        failed=section if errors else None,
        saved=saved,
        require_phone=(posted or {}).get("require_phone") == "on"
        if section == "notifications"
        else ctx.require_phone,
        holds=[(words[m], _span(minutes, language)) for m, minutes in ctx.rules.hold_minutes.items()],
        base=f"/{language}/desk/{ctx.business_id}",
    )


def _fields(
    section: str,
    definition: BusinessTypeDefinition,
    rules: EffectiveRules,
    language: str,
    posted: Mapping[str, str] | None,
    errors: Mapping[str, str] | None,
) -> list[RuleField]:
    defaults = definition.default_rules()
    shown = []
    for rule in SECTIONS[section]:
        if rule == "default_capacity" and rules.mode != "class":
            continue
        current, default = getattr(rules, rule), getattr(defaults, rule)
        editable = rule in definition.overridable.rules
        if not editable and current is None:
            continue  # a fixed rule that does not apply (a deposit under another policy)
        entry = RuleField(
            name=rule,
            kind=KINDS.get(rule, "minutes"),
            editable=editable,
            current=_humane(rule, current, language),
            default=_humane(rule, default, language),
            bounds=_bounds(definition, rule, language),
            error=(errors or {}).get(rule),
        )
        shown.append(_with_input(entry, definition, current, posted, language) if editable else entry)
    return shown


def _with_input(
    entry: RuleField,
    definition: BusinessTypeDefinition,
    current: Any,
    posted: Mapping[str, str] | None,
    language: str,
) -> RuleField:
    """The input's value and choices: as posted when the form is shown again, else the
    effective value (a span of minutes in the largest unit that divides it)."""
    rule, kind, words = entry.name, entry.kind, WORDS[language]
    overridable = definition.overridable
    if kind == "policy":
        allowed = overridable.payment_policy.allowed if overridable.payment_policy else ()
        chosen = posted.get(rule, "") if posted is not None else str(current)
        return replace(entry, value=chosen, options=[(p, words[f"rules_policy_{p}"]) for p in allowed])
    if kind == "methods":
        offered = overridable.payment_methods.allowed if overridable.payment_methods else ()
        ticked = (
            {m for m in offered if posted.get(f"method_{m}") == "on"} if posted is not None else set(current)
        )
        return replace(entry, options=[(m, words[m]) for m in offered], checked=frozenset(ticked))
    if kind == "hour":
        bounds = overridable.int_bounds(rule)
        low, high = (bounds.min, bounds.max) if bounds else (0, 23)
        hours = [(str(h), presenting.wall_clock(h * 60, language)) for h in range(low, high + 1)]
        value = posted.get(rule, "") if posted is not None else str(current)
        return replace(entry, value=value, options=hours)
    if posted is not None:
        return replace(entry, value=posted.get(rule, ""), unit=posted.get(f"{rule}_unit", "minutes"))
    if current is None:
        return entry
    unit = _unit_of(current) if kind == "minutes" else "minutes"
    return replace(entry, value=str(current // UNITS[unit]), unit=unit)


def _unit_of(minutes: int) -> str:
    if minutes and minutes % UNITS["days"] == 0:
        return "days"
    if minutes and minutes % UNITS["hours"] == 0:
        return "hours"
    return "minutes"


def _bounds(definition: BusinessTypeDefinition, rule: str, language: str) -> str:
    bounds = definition.overridable.int_bounds(rule)
    if bounds is None:
        return ""
    low, high = _humane(rule, bounds.min, language), _humane(rule, bounds.max, language)
    return WORDS[language]["rules_between"].format(low=low, high=high)


def _humane(rule: str, value: Any, language: str) -> str:
    """A rule's value as people read it: spans in days, hours and minutes, hours of the
    day as clock times, percents, the policy and methods in words."""
    words, locale = WORDS[language], presenting.LOCALES[language]
    kind = KINDS.get(rule, "minutes")
    if value is None:
        return words.get(f"rules_unset_{rule}", words["rules_unset"])
    if kind == "policy":
        return words[f"rules_policy_{value}"]
    if kind == "methods":
        return words["comma"].join(words[m] for m in value) if value else words["rules_no_methods"]
    if kind == "days":
        return str(format_unit(value, "duration-day", length="long", locale=locale))
    if kind == "percent":
        return str(format_percent(value / 100, locale=locale))
    if kind == "count":
        return str(format_decimal(value, locale=locale))
    if kind == "hour":
        return presenting.wall_clock(value * 60, language)
    return _span(value, language)


def _span(minutes: int, language: str) -> str:
    """ "1 day 2 hours", "45 minutes": the largest units first (presenting.duration stops at hours)."""
    if minutes < UNITS["days"]:
        return presenting.duration(minutes, language)
    days, rest = divmod(minutes, UNITS["days"])
    whole = str(format_unit(days, "duration-day", length="long", locale=presenting.LOCALES[language]))
    return (
        f"{whole}{' و' if language == 'ar' else ' '}{presenting.duration(rest, language)}" if rest else whole
    )
