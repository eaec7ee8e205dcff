"""Business-type definitions, and the shape of the effective rules a business schedules by.

A business type is declarative data (a TOML file or an admin's JSON): adding a kind of
business is a new definition, never a code change. Everything here is pure; bad input
raises a pydantic ``ValidationError`` (or ``ValidationFailed`` from ``check_definition``),
and every problem names its field (dotted path) and a stable snake_case rule code.
Merging a business's overrides lives in ``rules``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Annotated, Any, Final, Literal, Self, TypeAlias

from jsonschema import Draft202012Validator
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from booklnk.kernel.errors import FieldIssue, ValidationFailed

Mode: TypeAlias = Literal["appointment", "class"]
PaymentPolicy: TypeAlias = Literal["prepay", "deposit", "pay_at_venue"]
PaymentMethod: TypeAlias = Literal["card", "wallet", "fawry"]
Loc: TypeAlias = tuple[str | int, ...]

MINUTES_PER_DAY: Final = 1440

# Absolute limits of every integer rule: a definition's field and its override bounds
# must both stay inside them, so an in-bounds override can never break the engine.
INTEGER_RULE_LIMITS: Final[Mapping[str, tuple[int, int]]] = {
    "buffer_before_minutes": (0, 240),
    "buffer_after_minutes": (0, 240),
    "min_notice_minutes": (0, 43_200),
    "horizon_days": (1, 730),
    "cancellation_window_minutes": (0, 43_200),
    "late_cancellation_refund_percent": (0, 100),
    "deposit_percent": (1, 99),
    "default_capacity": (1, 1000),
    # Holds are short until money is on its way (DESIGN invariant 9): a booking that needs
    # payment is held this long whatever method the customer names; the method's own
    # `payment.hold_minutes` applies only once the gateway reports the payment pending.
    "checkout_hold_minutes": (1, 120),
    # One customer cannot hold a business's calendar: unpaid holds at once, and bookings
    # starting on one local day (staff booking on a customer's behalf are exempt).
    "max_unpaid_holds_per_customer": (1, 50),
    "max_bookings_per_customer_per_day": (1, 100),
    # Staff actions follow the clock: check-in opens this long before the start (and
    # closes at the end), a no-show needs the start plus this grace, and a check-in or
    # no-show can be undone for this long after it was recorded.
    "check_in_opens_minutes": (0, 1440),
    "no_show_grace_minutes": (0, 1440),
    "undo_window_minutes": (0, 10_080),
    # A confirmed booking's reminders (booking.reminders): minutes before its start (a whole
    # number of days goes at the same local time that many days before; 0 turns one off),
    # held back by quiet hours (local hours; equal: none).
    "first_reminder_minutes": (0, 10_080),
    "second_reminder_minutes": (0, 10_080),
    "quiet_hours_start": (0, 23),
    "quiet_hours_end": (0, 23),
}
CHOICE_RULES: Final = frozenset({"payment_policy", "payment_methods"})
OVERRIDABLE_RULES: Final = frozenset(INTEGER_RULE_LIMITS) | CHOICE_RULES

DEFAULT_BOOKING_FIELDS: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {},
    "additionalProperties": False,
}


def _limited(rule: str) -> Any:
    """The ``Field`` bounding an integer rule to its absolute limits."""
    low, high = INTEGER_RULE_LIMITS[rule]
    return Field(ge=low, le=high)


class _Problems:
    """Collects cross-field problems so one validator reports all of them, each at its field."""

    def __init__(self) -> None:
        self._details: list[InitErrorDetails] = []

    def add(self, loc: Loc, rule: str, message: str, value: object) -> None:
        error = PydanticCustomError(rule, message)
        self._details.append(InitErrorDetails(type=error, loc=loc, input=value))

    def raise_any(self, title: str) -> None:
        if self._details:
            raise ValidationError.from_exception_data(title, self._details)


def _unique(items: tuple[Any, ...]) -> tuple[Any, ...]:
    duplicates = sorted({str(item) for item in items if items.count(item) > 1})
    if duplicates:
        raise PydanticCustomError("duplicate", f"values listed twice: {', '.join(duplicates)}")
    return items


def _divides_day(grid: int) -> int:
    if MINUTES_PER_DAY % grid:
        raise PydanticCustomError(
            "grid_not_dividing_day", f"slot grid {grid} does not divide a day (1440 minutes)"
        )
    return grid


# Lists arrive from TOML/JSON as lists; the field is lax only to turn them into tuples
# (immutable), while the items stay strict.
_UniqueTuple = Field(strict=False)

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
GridMinutes = Annotated[int, Field(ge=5, le=240), AfterValidator(_divides_day)]
DurationMinutes = Annotated[int, Strict(), Field(gt=0, le=MINUTES_PER_DAY)]
HoldMinutes = Annotated[int, Field(ge=1, le=10_080)]


class _Frozen(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PaymentRules(_Frozen):
    """How customers pay; ``methods`` are the online methods offered at booking time.

    ``hold_minutes`` is how long a booking stays held once the gateway reports its payment
    in that method as on its way (pending: a Fawry reference issued); before that, every
    hold lasts the type's short ``checkout_hold_minutes`` whatever the method."""

    policy: PaymentPolicy
    deposit_percent: Annotated[int, _limited("deposit_percent")] | None = None
    methods: Annotated[tuple[PaymentMethod, ...], _UniqueTuple, AfterValidator(_unique)] = ()
    hold_minutes: dict[PaymentMethod, HoldMinutes] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_policy(self) -> Self:
        problems = _Problems()
        if self.policy == "deposit" and self.deposit_percent is None:
            msg = "payment.deposit_percent is required when payment.policy is 'deposit'"
            problems.add(("deposit_percent",), "required", msg, None)
        if self.policy != "deposit" and self.deposit_percent is not None:
            msg = "payment.deposit_percent only applies when payment.policy is 'deposit'"
            problems.add(("deposit_percent",), "not_applicable", msg, self.deposit_percent)
        if self.policy != "pay_at_venue" and not self.methods:
            msg = f"payment.methods must not be empty when payment.policy is {self.policy!r}"
            problems.add(("methods",), "required", msg, self.methods)
        for method in self.methods:
            if method not in self.hold_minutes:
                msg = f"payment.hold_minutes needs a value for the allowed method {method!r}"
                problems.add(("hold_minutes", method), "required", msg, self.hold_minutes)
        problems.raise_any("PaymentRules")
        return self


class ClassSettings(_Frozen):
    """Class mode only. Sessions carry their own capacity; this is the default offered when
    an owner publishes one. The waitlist is always on (the design asks for it), so it needs
    no setting yet."""

    default_capacity: Annotated[int, _limited("default_capacity")]


class IntBounds(_Frozen):
    min: int
    max: int

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.min > self.max:
            raise PydanticCustomError("min_above_max", f"min {self.min} is above max {self.max}")
        return self


class PolicyBounds(_Frozen):
    allowed: Annotated[tuple[PaymentPolicy, ...], _UniqueTuple, Field(min_length=1), AfterValidator(_unique)]


class MethodBounds(_Frozen):
    allowed: Annotated[tuple[PaymentMethod, ...], _UniqueTuple, Field(min_length=1), AfterValidator(_unique)]


class Overridable(_Frozen):
    """Rules a business of this type may change, each with its bounds; absent = fixed."""

    buffer_before_minutes: IntBounds | None = None
    buffer_after_minutes: IntBounds | None = None
    min_notice_minutes: IntBounds | None = None
    horizon_days: IntBounds | None = None
    cancellation_window_minutes: IntBounds | None = None
    late_cancellation_refund_percent: IntBounds | None = None
    deposit_percent: IntBounds | None = None
    default_capacity: IntBounds | None = None
    checkout_hold_minutes: IntBounds | None = None
    max_unpaid_holds_per_customer: IntBounds | None = None
    max_bookings_per_customer_per_day: IntBounds | None = None
    check_in_opens_minutes: IntBounds | None = None
    no_show_grace_minutes: IntBounds | None = None
    undo_window_minutes: IntBounds | None = None
    first_reminder_minutes: IntBounds | None = None
    second_reminder_minutes: IntBounds | None = None
    quiet_hours_start: IntBounds | None = None
    quiet_hours_end: IntBounds | None = None
    payment_policy: PolicyBounds | None = None
    payment_methods: MethodBounds | None = None

    def int_bounds(self, rule: str) -> IntBounds | None:
        bounds = getattr(self, rule) if rule in INTEGER_RULE_LIMITS else None
        return bounds if isinstance(bounds, IntBounds) else None

    @property
    def rules(self) -> frozenset[str]:
        return frozenset(name for name in OVERRIDABLE_RULES if getattr(self, name) is not None)


def _schema_problems(schema: Mapping[str, Any]) -> _Problems:
    """JSON-only values, local ``$ref``s, an object schema, and every meta-schema error.

    Equivalent to ``Draft202012Validator.check_schema`` but reports all errors, not the best.
    """
    problems = _Problems()
    _walk_json(schema, (), problems)
    if schema.get("type") != "object":
        msg = "booking_fields must be a schema of type 'object'"
        problems.add(("type",), "not_object_schema", msg, schema.get("type"))
    meta = Draft202012Validator(
        Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    for error in meta.iter_errors(dict(schema)):
        msg = f"not a valid JSON Schema (2020-12): {error.message}"
        problems.add(tuple(error.absolute_path), "invalid_schema", msg, error.instance)
    return problems


def _walk_json(value: object, loc: Loc, problems: _Problems) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            ref = key in ("$ref", "$dynamicRef") and isinstance(item, str)
            if ref and not item.startswith("#"):
                msg = "only local references ('#...') are allowed; schemas are never fetched"
                problems.add((*loc, key), "remote_ref", msg, item)
            _walk_json(item, (*loc, key), problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_json(item, (*loc, index), problems)
    elif value is not None and not isinstance(value, str | int | float | bool):
        msg = f"{type(value).__name__} is not a JSON value"
        problems.add(loc, "not_json", msg, value)


def _check_booking_fields(schema: dict[str, Any]) -> dict[str, Any]:
    _schema_problems(schema).raise_any("booking_fields")
    return schema


def _default_booking_fields() -> dict[str, Any]:
    return copy.deepcopy(dict(DEFAULT_BOOKING_FIELDS))


class BusinessTypeDefinition(_Frozen):
    """How a kind of business schedules: the defaults and the bounds of what it may change."""

    key: Slug
    name: Name
    # In Arabic too: a customer's page shows the one of their language. A booking field's
    # `title` and `description` have `title_ar` and `description_ar` beside them alike.
    name_ar: Name | None = None
    description: Description | None = None
    description_ar: Description | None = None
    mode: Mode
    slot_grid_minutes: GridMinutes
    default_durations_minutes: Annotated[
        tuple[DurationMinutes, ...], _UniqueTuple, Field(min_length=1), AfterValidator(_unique)
    ]
    buffer_before_minutes: Annotated[int, _limited("buffer_before_minutes")] = 0
    buffer_after_minutes: Annotated[int, _limited("buffer_after_minutes")] = 0
    min_notice_minutes: Annotated[int, _limited("min_notice_minutes")] = 0
    horizon_days: Annotated[int, _limited("horizon_days")]
    cancellation_window_minutes: Annotated[int, _limited("cancellation_window_minutes")]
    # After the free window: absent, customers cannot cancel (only the business can);
    # else they may, and get this share of what they paid back (0: nothing).
    late_cancellation_refund_percent: Annotated[int, _limited("late_cancellation_refund_percent")] | None = (
        None
    )
    payment: PaymentRules
    checkout_hold_minutes: Annotated[int, _limited("checkout_hold_minutes")] = 15
    max_unpaid_holds_per_customer: Annotated[int, _limited("max_unpaid_holds_per_customer")] = 2
    max_bookings_per_customer_per_day: Annotated[int, _limited("max_bookings_per_customer_per_day")] = 4
    check_in_opens_minutes: Annotated[int, _limited("check_in_opens_minutes")] = 30
    no_show_grace_minutes: Annotated[int, _limited("no_show_grace_minutes")] = 15
    undo_window_minutes: Annotated[int, _limited("undo_window_minutes")] = 1440
    first_reminder_minutes: Annotated[int, _limited("first_reminder_minutes")] = 1440
    second_reminder_minutes: Annotated[int, _limited("second_reminder_minutes")] = 120
    quiet_hours_start: Annotated[int, _limited("quiet_hours_start")] = 22
    quiet_hours_end: Annotated[int, _limited("quiet_hours_end")] = 9
    class_settings: ClassSettings | None = None
    booking_fields: Annotated[dict[str, Any], AfterValidator(_check_booking_fields)] = Field(
        default_factory=_default_booking_fields
    )
    overridable: Overridable = Field(default_factory=Overridable)

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        problems = _Problems()
        self._check_grid(problems)
        self._check_mode(problems)
        self._check_hold_coverage(problems)
        self._check_overridable(problems)
        problems.raise_any("BusinessTypeDefinition")
        return self

    def default_rules(self) -> EffectiveRules:
        """The rules of a business that overrides nothing."""
        return EffectiveRules(
            mode=self.mode,
            slot_grid_minutes=self.slot_grid_minutes,
            default_durations_minutes=self.default_durations_minutes,
            buffer_before_minutes=self.buffer_before_minutes,
            buffer_after_minutes=self.buffer_after_minutes,
            min_notice_minutes=self.min_notice_minutes,
            horizon_days=self.horizon_days,
            cancellation_window_minutes=self.cancellation_window_minutes,
            late_cancellation_refund_percent=self.late_cancellation_refund_percent,
            payment_policy=self.payment.policy,
            deposit_percent=self.payment.deposit_percent,
            payment_methods=self.payment.methods,
            hold_minutes={m: self.payment.hold_minutes[m] for m in self.payment.methods},
            booking_fields=copy.deepcopy(self.booking_fields),
            default_capacity=self.class_settings.default_capacity if self.class_settings else None,
            checkout_hold_minutes=self.checkout_hold_minutes,
            max_unpaid_holds_per_customer=self.max_unpaid_holds_per_customer,
            max_bookings_per_customer_per_day=self.max_bookings_per_customer_per_day,
            check_in_opens_minutes=self.check_in_opens_minutes,
            no_show_grace_minutes=self.no_show_grace_minutes,
            undo_window_minutes=self.undo_window_minutes,
            first_reminder_minutes=self.first_reminder_minutes,
            second_reminder_minutes=self.second_reminder_minutes,
            quiet_hours_start=self.quiet_hours_start,
            quiet_hours_end=self.quiet_hours_end,
        )

    def _check_grid(self, problems: _Problems) -> None:
        for index, duration in enumerate(self.default_durations_minutes):
            if duration % self.slot_grid_minutes:
                msg = f"duration {duration} is not a multiple of slot_grid_minutes"
                problems.add(("default_durations_minutes", index), "duration_off_grid", msg, duration)

    def _check_mode(self, problems: _Problems) -> None:
        if self.mode == "class" and self.class_settings is None:
            msg = "class_settings is required when mode is 'class'"
            problems.add(("class_settings",), "required", msg, None)
        if self.mode != "class" and self.class_settings is not None:
            msg = "class_settings only applies when mode is 'class'"
            problems.add(("class_settings",), "class_only", msg, self.class_settings)
        if self.mode != "class" and self.overridable.default_capacity is not None:
            msg = "default_capacity only applies when mode is 'class'"
            problems.add(("overridable", "default_capacity"), "class_only", msg, None)

    def _check_hold_coverage(self, problems: _Problems) -> None:
        """Every method a business may end up offering needs a hold time; no stray ones."""
        optional = self.overridable.payment_methods
        reachable = set(self.payment.methods) | set(optional.allowed if optional else ())
        for method in sorted(reachable - set(self.payment.methods)):
            if method not in self.payment.hold_minutes:
                msg = f"payment.hold_minutes needs a value for the overridable method {method!r}"
                problems.add(("payment", "hold_minutes", method), "required", msg, None)
        for method in sorted(set(self.payment.hold_minutes) - reachable):
            msg = f"{method!r} is neither in payment.methods nor overridable"
            loc = ("payment", "hold_minutes", method)
            problems.add(loc, "method_not_allowed", msg, self.payment.hold_minutes[method])

    def _check_overridable(self, problems: _Problems) -> None:
        defaults = self.default_rules()
        for rule, (low, high) in INTEGER_RULE_LIMITS.items():
            bounds = self.overridable.int_bounds(rule)
            if bounds is None:
                continue
            loc: Loc = ("overridable", rule)
            for end in ("min", "max"):
                value = getattr(bounds, end)
                if not low <= value <= high:
                    msg = f"{end} {value} is outside the limits of {rule} ({low}..{high})"
                    problems.add((*loc, end), "outside_limits", msg, value)
            default = getattr(defaults, rule)
            if default is not None and not bounds.min <= default <= bounds.max:
                msg = f"bounds {bounds.min}..{bounds.max} exclude the default {default}"
                problems.add(loc, "excludes_default", msg, default)
        self._check_choice_bounds(problems)

    def _check_choice_bounds(self, problems: _Problems) -> None:
        policies, methods = self.overridable.payment_policy, self.overridable.payment_methods
        if policies is not None and self.payment.policy not in policies.allowed:
            msg = f"allowed policies exclude the default {self.payment.policy!r}"
            problems.add(("overridable", "payment_policy"), "excludes_default", msg, None)
        if methods is not None and not set(self.payment.methods) <= set(methods.allowed):
            msg = f"allowed methods exclude some default methods {list(self.payment.methods)}"
            problems.add(("overridable", "payment_methods"), "excludes_default", msg, None)
        may_switch_to_deposit = policies is not None and "deposit" in policies.allowed
        percent_fixed = self.overridable.deposit_percent is None
        if may_switch_to_deposit and self.payment.deposit_percent is None and percent_fixed:
            msg = "deposit_percent must be overridable when 'deposit' is an allowed policy"
            problems.add(("overridable", "deposit_percent"), "required", msg, None)


def definition_issues(exc: ValidationError, prefix: str = "") -> list[FieldIssue]:
    """One ``FieldIssue`` per pydantic error: dotted field path and its stable error type."""
    issues = []
    for error in exc.errors(include_url=False):
        path = [str(part) for part in error["loc"] if part != "[key]"]
        dotted = ".".join([prefix, *path] if prefix else path)
        issues.append(FieldIssue(dotted, error["type"], error["msg"]))
    return issues


def check_definition(data: Mapping[str, object], *, prefix: str = "") -> BusinessTypeDefinition:
    """Validate a definition submitted through the API (``prefix``: e.g. ``body``)."""
    try:
        return BusinessTypeDefinition.model_validate(dict(data))
    except ValidationError as exc:
        issues = definition_issues(exc, prefix)
        raise ValidationFailed("The business type definition is invalid.", issues=issues) from exc


@dataclass(frozen=True, slots=True)
class EffectiveRules:
    """The rules one business schedules by: its type's defaults merged with its overrides.

    The availability engine and the booking service read only this, never the definition.
    Mappings are typed read-only; they are private copies, so the definition stays intact.
    """

    mode: Mode
    slot_grid_minutes: int
    default_durations_minutes: tuple[int, ...]
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    cancellation_window_minutes: int
    late_cancellation_refund_percent: int | None
    payment_policy: PaymentPolicy
    deposit_percent: int | None
    payment_methods: tuple[PaymentMethod, ...]
    hold_minutes: Mapping[PaymentMethod, int]
    booking_fields: Mapping[str, Any] = field(repr=False)
    default_capacity: int | None = None
    checkout_hold_minutes: int = 15
    max_unpaid_holds_per_customer: int = 2
    max_bookings_per_customer_per_day: int = 4
    check_in_opens_minutes: int = 30
    no_show_grace_minutes: int = 15
    undo_window_minutes: int = 1440
    first_reminder_minutes: int = 1440
    second_reminder_minutes: int = 120
    quiet_hours_start: int = 22
    quiet_hours_end: int = 9

    @property
    def requires_payment_to_confirm(self) -> bool:
        """Prepay and deposit bookings stay held until a verified payment arrives."""
        return self.payment_policy != "pay_at_venue"

    def upfront_minor(self, price_minor: int) -> int:
        """What must be paid online before a booking at `price_minor` is confirmed: the
        whole price, a deposit (rounded up to a whole minor unit, so it is never less
        than its percent), or nothing when it is paid at the venue."""
        if not self.requires_payment_to_confirm:
            return 0
        if self.payment_policy == "deposit" and self.deposit_percent is not None:
            return -(-price_minor * self.deposit_percent // 100)
        return price_minor


RULE_NAMES: Final = frozenset(f.name for f in fields(EffectiveRules))
