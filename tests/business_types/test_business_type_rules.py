"""A business's effective rules: its type's defaults, changed only within declared bounds."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.business_types.definition import (
    INTEGER_RULE_LIMITS,
    BusinessTypeDefinition,
    EffectiveRules,
    IntBounds,
)
from booklnk.business_types.loader import builtin_definitions
from booklnk.business_types.rules import resolve_rules, validate_booking_fields
from booklnk.kernel.errors import ValidationFailed

BUILTINS = {definition.key: definition for definition in builtin_definitions()}
BARBERSHOP, CONSULTANT, GYM = BUILTINS["barbershop"], BUILTINS["consultant"], BUILTINS["gym"]


def _problems(definition: BusinessTypeDefinition, overrides: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        resolve_rules(definition, overrides)
    assert caught.value.status == 422
    return [(issue.field, issue.rule) for issue in caught.value.issues]


@pytest.mark.parametrize("definition", BUILTINS.values(), ids=BUILTINS.keys())
def test_no_overrides_gives_type_defaults(definition: BusinessTypeDefinition) -> None:
    rules = resolve_rules(definition, {})

    assert rules == definition.default_rules()
    assert rules.slot_grid_minutes == definition.slot_grid_minutes
    assert rules.payment_methods == definition.payment.methods


def test_overrides_merge_into_defaults() -> None:
    rules = resolve_rules(
        BARBERSHOP,
        {
            "buffer_after_minutes": 10,
            "min_notice_minutes": 60,
            "payment_policy": "prepay",
            "payment_methods": ["card"],
        },
    )

    assert rules.buffer_after_minutes == 10
    assert rules.min_notice_minutes == 60
    assert rules.payment_policy == "prepay"
    assert rules.requires_payment_to_confirm
    assert rules.payment_methods == ("card",)
    assert rules.hold_minutes == {"card": 10}  # only the methods still offered
    assert rules.slot_grid_minutes == 15  # untouched rules keep the type's value


def test_class_capacity_override() -> None:
    assert resolve_rules(GYM, {"default_capacity": 50}).default_capacity == 50
    assert _problems(GYM, {"default_capacity": 500}) == [("rules.default_capacity", "out_of_bounds")]


def test_leaving_the_deposit_policy_drops_the_percent() -> None:
    rules = resolve_rules(CONSULTANT, {"payment_policy": "prepay"})

    assert rules.deposit_percent is None
    assert _problems(CONSULTANT, {"payment_policy": "prepay", "deposit_percent": 30}) == [
        ("rules.deposit_percent", "not_applicable")
    ]


def test_switching_to_deposit_needs_a_percent() -> None:
    data = CONSULTANT.model_dump(mode="json")
    data["payment"] = {**data["payment"], "policy": "prepay", "deposit_percent": None}
    prepay_first = BusinessTypeDefinition.model_validate(data)

    assert _problems(prepay_first, {"payment_policy": "deposit"}) == [("rules.deposit_percent", "required")]
    rules = resolve_rules(prepay_first, {"payment_policy": "deposit", "deposit_percent": 30})
    assert (rules.payment_policy, rules.deposit_percent) == ("deposit", 30)


@pytest.mark.parametrize(
    ("definition", "overrides", "expected"),
    [
        (BARBERSHOP, {"slot_grid_minutes": 30}, ("rules.slot_grid_minutes", "not_overridable")),
        (BARBERSHOP, {"deposit_percent": 20}, ("rules.deposit_percent", "not_overridable")),
        (GYM, {"booking_fields": {}}, ("rules.booking_fields", "not_overridable")),
        (BARBERSHOP, {"colour": "red"}, ("rules.colour", "unknown_rule")),
        (BARBERSHOP, {"horizon_days": 365}, ("rules.horizon_days", "out_of_bounds")),
        (CONSULTANT, {"min_notice_minutes": 0}, ("rules.min_notice_minutes", "out_of_bounds")),
        (BARBERSHOP, {"horizon_days": "30"}, ("rules.horizon_days", "wrong_type")),
        (BARBERSHOP, {"horizon_days": 30.0}, ("rules.horizon_days", "wrong_type")),
        (BARBERSHOP, {"horizon_days": True}, ("rules.horizon_days", "wrong_type")),
        (BARBERSHOP, {"payment_policy": 1}, ("rules.payment_policy", "wrong_type")),
        (BARBERSHOP, {"payment_policy": "deposit"}, ("rules.payment_policy", "not_allowed")),
        (BARBERSHOP, {"payment_policy": "barter"}, ("rules.payment_policy", "not_allowed")),
        (BARBERSHOP, {"payment_methods": "card"}, ("rules.payment_methods", "wrong_type")),
        (BARBERSHOP, {"payment_methods": [1]}, ("rules.payment_methods", "wrong_type")),
        (BARBERSHOP, {"payment_methods": ["fawry"]}, ("rules.payment_methods", "not_allowed")),
        (BARBERSHOP, {"payment_methods": ["card", "card"]}, ("rules.payment_methods", "duplicate")),
        (GYM, {"payment_methods": []}, ("rules.payment_methods", "required")),
    ],
)
def test_bad_override_is_rejected(
    definition: BusinessTypeDefinition, overrides: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert _problems(definition, overrides) == [expected]


def test_pay_at_venue_may_offer_no_online_method() -> None:
    rules = resolve_rules(BARBERSHOP, {"payment_methods": []})

    assert rules.payment_methods == ()
    assert rules.hold_minutes == {}
    assert not rules.requires_payment_to_confirm


def test_one_issue_per_problem() -> None:
    overrides = {"slot_grid_minutes": 30, "horizon_days": 1000, "payment_policy": "deposit"}

    assert _problems(BARBERSHOP, overrides) == [
        ("rules.slot_grid_minutes", "not_overridable"),
        ("rules.horizon_days", "out_of_bounds"),
        ("rules.payment_policy", "not_allowed"),
    ]


def test_effective_rules_are_frozen_and_leave_the_definition_alone() -> None:
    rules = resolve_rules(CONSULTANT, {})

    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.horizon_days = 1  # type: ignore[misc]
    rules.booking_fields["properties"]["topic"]["maxLength"] = 1
    assert CONSULTANT.booking_fields["properties"]["topic"]["maxLength"] == 200


INTEGER_OVERRIDES = [
    (definition, rule, bounds)
    for definition in BUILTINS.values()
    for rule in INTEGER_RULE_LIMITS
    if (bounds := definition.overridable.int_bounds(rule)) is not None
]


def test_every_builtin_declares_integer_overrides() -> None:
    assert {definition.key for definition, _, _ in INTEGER_OVERRIDES} == set(BUILTINS)


@given(case=st.sampled_from(INTEGER_OVERRIDES), data=st.data())
def test_any_in_bounds_integer_override_is_the_effective_value(
    case: tuple[BusinessTypeDefinition, str, IntBounds], data: st.DataObject
) -> None:
    definition, rule, bounds = case
    value = data.draw(st.integers(bounds.min, bounds.max), label=rule)

    rules = resolve_rules(definition, {rule: value})

    assert getattr(rules, rule) == value


@given(case=st.sampled_from(INTEGER_OVERRIDES), data=st.data())
def test_any_out_of_bounds_integer_override_is_rejected(
    case: tuple[BusinessTypeDefinition, str, IntBounds], data: st.DataObject
) -> None:
    definition, rule, bounds = case
    outside = st.integers(max_value=bounds.min - 1) | st.integers(min_value=bounds.max + 1)
    value = data.draw(outside, label=rule)

    assert _problems(definition, {rule: value}) == [(f"rules.{rule}", "out_of_bounds")]


# --- booking fields: the consultant's intake questions -------------------------------------

INTAKE: EffectiveRules = resolve_rules(CONSULTANT, {})


@pytest.mark.parametrize("data", [{"topic": "Tax planning"}, {"topic": "Hiring", "company": "Nile Bakery"}])
def test_valid_intake_passes(data: dict[str, Any]) -> None:
    validate_booking_fields(INTAKE, data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, [("extra_fields.topic", "required")]),
        ({"company": "Nile Bakery"}, [("extra_fields.topic", "required")]),
        ({"topic": 5}, [("extra_fields.topic", "type")]),
        ({"topic": "x" * 201}, [("extra_fields.topic", "maxLength")]),
        ({"topic": "Tax", "fax": "02"}, [("extra_fields.fax", "additionalProperties")]),
        (
            {"topic": "", "company": 3},
            [("extra_fields.company", "type"), ("extra_fields.topic", "minLength")],
        ),
    ],
)
def test_invalid_intake_names_field_and_keyword(
    data: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_booking_fields(INTAKE, data)

    assert [(issue.field, issue.rule) for issue in caught.value.issues] == expected


def test_each_missing_property_gets_its_own_issue() -> None:
    schema = {"type": "object", "required": ["a", "b"], "properties": {}}
    rules = dataclasses.replace(INTAKE, booking_fields=schema)

    with pytest.raises(ValidationFailed) as caught:
        validate_booking_fields(rules, {})

    assert [(i.field, i.message) for i in caught.value.issues] == [
        ("extra_fields.a", "'a' is required"),
        ("extra_fields.b", "'b' is required"),
    ]


def test_default_schema_accepts_nothing_extra() -> None:
    rules = resolve_rules(BARBERSHOP, {})

    validate_booking_fields(rules, {})
    with pytest.raises(ValidationFailed) as caught:
        validate_booking_fields(rules, {"note": "hi"})
    assert [issue.field for issue in caught.value.issues] == ["extra_fields.note"]
