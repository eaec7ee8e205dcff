"""Definitions are validated on load: every broken rule is reported at its field."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from booklnk.business_types.definition import (
    BusinessTypeDefinition,
    check_definition,
    definition_issues,
)
from booklnk.kernel.errors import ValidationFailed

_DELETE = object()

BASE: dict[str, Any] = {
    "key": "salon",
    "name": "Salon",
    "mode": "appointment",
    "slot_grid_minutes": 15,
    "default_durations_minutes": [30, 60],
    "horizon_days": 30,
    "cancellation_window_minutes": 60,
    "payment": {"policy": "prepay", "methods": ["card"], "hold_minutes": {"card": 10}},
    "overridable": {"min_notice_minutes": {"min": 0, "max": 60}},
}


def _patched(patch: dict[str, Any]) -> dict[str, Any]:
    """BASE with ``patch`` merged in (nested dicts merge; ``_DELETE`` removes a key)."""

    def merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is _DELETE:
                target.pop(key, None)
            elif isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value)
            else:
                target[key] = value

    data = copy.deepcopy(BASE)
    merge(data, patch)
    return data


def _issues(data: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        check_definition(data)
    return {(issue.field, issue.rule) for issue in caught.value.issues}


def test_base_is_valid_and_fills_defaults() -> None:
    definition = check_definition(BASE)

    assert definition.buffer_before_minutes == 0
    assert definition.default_durations_minutes == (30, 60)
    assert definition.booking_fields == {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }
    assert definition.class_settings is None


INVALID = [
    ("grid_not_dividing_day", {"slot_grid_minutes": 7}, "slot_grid_minutes", "grid_not_dividing_day"),
    ("grid_too_small", {"slot_grid_minutes": 4}, "slot_grid_minutes", "greater_than_equal"),
    ("grid_as_string", {"slot_grid_minutes": "15"}, "slot_grid_minutes", "int_type"),
    ("bool_is_not_int", {"buffer_after_minutes": True}, "buffer_after_minutes", "int_type"),
    ("missing_horizon", {"horizon_days": _DELETE}, "horizon_days", "missing"),
    ("horizon_too_far", {"horizon_days": 731}, "horizon_days", "less_than_equal"),
    ("bad_key", {"key": "Salon!"}, "key", "string_pattern_mismatch"),
    ("unknown_key", {"colour": "red"}, "colour", "extra_forbidden"),
    ("bad_mode", {"mode": "queue"}, "mode", "literal_error"),
    (
        "duration_off_grid",
        {"default_durations_minutes": [30, 40]},
        "default_durations_minutes.1",
        "duration_off_grid",
    ),
    ("no_durations", {"default_durations_minutes": []}, "default_durations_minutes", "too_short"),
    (
        "duplicate_duration",
        {"default_durations_minutes": [30, 30]},
        "default_durations_minutes",
        "duplicate",
    ),
    (
        "deposit_without_percent",
        {"payment": {"policy": "deposit"}},
        "payment.deposit_percent",
        "required",
    ),
    (
        "percent_without_deposit",
        {"payment": {"deposit_percent": 20}},
        "payment.deposit_percent",
        "not_applicable",
    ),
    (
        "percent_too_high",
        {"payment": {"policy": "deposit", "deposit_percent": 100}},
        "payment.deposit_percent",
        "less_than_equal",
    ),
    (
        "hold_minutes_missing_method",
        {"payment": {"methods": ["card", "fawry"]}},
        "payment.hold_minutes.fawry",
        "required",
    ),
    (
        "hold_minutes_missing_overridable_method",
        {"overridable": {"payment_methods": {"allowed": ["card", "wallet"]}}},
        "payment.hold_minutes.wallet",
        "required",
    ),
    (
        "stray_hold_minutes",
        {"payment": {"hold_minutes": {"card": 10, "fawry": 1440}}},
        "payment.hold_minutes.fawry",
        "method_not_allowed",
    ),
    ("unknown_method", {"payment": {"methods": ["cash"]}}, "payment.methods.0", "literal_error"),
    ("prepay_without_methods", {"payment": {"methods": []}}, "payment.methods", "required"),
    (
        "bad_json_schema",
        {"booking_fields": {"type": "object", "properties": {"x": {"type": "strin"}}}},
        "booking_fields.properties.x.type",
        "invalid_schema",
    ),
    (
        "schema_not_object",
        {"booking_fields": {"type": "string"}},
        "booking_fields.type",
        "not_object_schema",
    ),
    (
        "remote_ref",
        {"booking_fields": {"type": "object", "properties": {"x": {"$ref": "https://x/y"}}}},
        "booking_fields.properties.x.$ref",
        "remote_ref",
    ),
    (
        "schema_with_toml_date",
        {"booking_fields": {"type": "object", "default": date(2025, 1, 1)}},
        "booking_fields.default",
        "not_json",
    ),
    (
        "unknown_overridable_rule",
        {"overridable": {"slot_grid_minutes": {"min": 5, "max": 30}}},
        "overridable.slot_grid_minutes",
        "extra_forbidden",
    ),
    (
        "bounds_exclude_default",
        {"overridable": {"min_notice_minutes": {"min": 10, "max": 60}}},
        "overridable.min_notice_minutes",
        "excludes_default",
    ),
    (
        "bounds_reversed",
        {"overridable": {"min_notice_minutes": {"min": 60, "max": 0}}},
        "overridable.min_notice_minutes",
        "min_above_max",
    ),
    (
        "bounds_beyond_limits",
        {"overridable": {"horizon_days": {"min": 1, "max": 1000}}},
        "overridable.horizon_days.max",
        "outside_limits",
    ),
    (
        "policy_bounds_exclude_default",
        {"overridable": {"payment_policy": {"allowed": ["pay_at_venue"]}}},
        "overridable.payment_policy",
        "excludes_default",
    ),
    (
        "method_bounds_exclude_default",
        {
            "overridable": {"payment_methods": {"allowed": ["fawry"]}},
            "payment": {"hold_minutes": {"card": 10, "fawry": 1440}},
        },
        "overridable.payment_methods",
        "excludes_default",
    ),
    (
        "deposit_allowed_but_percent_fixed",
        {"overridable": {"payment_policy": {"allowed": ["prepay", "deposit"]}}},
        "overridable.deposit_percent",
        "required",
    ),
    ("class_without_settings", {"mode": "class"}, "class_settings", "required"),
    (
        "appointment_with_class_settings",
        {"class_settings": {"default_capacity": 10}},
        "class_settings",
        "class_only",
    ),
    (
        "appointment_with_capacity_bounds",
        {"overridable": {"default_capacity": {"min": 1, "max": 10}}},
        "overridable.default_capacity",
        "class_only",
    ),
]


@pytest.mark.parametrize(
    ("patch", "field", "rule"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_definition_names_field_and_rule(patch: dict[str, Any], field: str, rule: str) -> None:
    assert (field, rule) in _issues(_patched(patch))


def test_every_cross_field_problem_is_reported_at_once() -> None:
    data = _patched(
        {
            "default_durations_minutes": [30, 40, 50],
            "class_settings": {"default_capacity": 10},
            "overridable": {"min_notice_minutes": {"min": 10, "max": 60}},
        }
    )

    assert _issues(data) == {
        ("default_durations_minutes.1", "duration_off_grid"),
        ("default_durations_minutes.2", "duration_off_grid"),
        ("class_settings", "class_only"),
        ("overridable.min_notice_minutes", "excludes_default"),
    }


def test_issue_prefix_for_api_bodies() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_definition(_patched({"slot_grid_minutes": 7}), prefix="body")

    assert caught.value.status == 422
    assert [i.field for i in caught.value.issues] == ["body.slot_grid_minutes"]


def test_plain_pydantic_errors_convert_to_issues() -> None:
    with pytest.raises(ValidationError) as caught:
        BusinessTypeDefinition.model_validate(_patched({"payment": {"policy": "deposit"}}))

    [issue] = definition_issues(caught.value)
    assert (issue.field, issue.rule) == ("payment.deposit_percent", "required")
    assert "payment.deposit_percent" in issue.message


def test_definition_is_frozen() -> None:
    definition = check_definition(BASE)

    with pytest.raises(ValidationError, match="frozen"):
        definition.horizon_days = 10  # type: ignore[misc]


def test_json_round_trip_is_lossless() -> None:
    """The definition is stored as JSONB and read back through the same validation."""
    definition = check_definition(_patched({"mode": "class", "class_settings": {"default_capacity": 12}}))

    assert BusinessTypeDefinition.model_validate(definition.model_dump(mode="json")) == definition
    assert BusinessTypeDefinition.model_validate_json(definition.model_dump_json()) == definition
