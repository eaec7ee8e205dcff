"""A business's effective rules: its type's defaults with its own overrides, and the
check of a booking's extra fields against the type's schema. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeAlias, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaViolation

from booklnk.business_types.definition import (
    RULE_NAMES,
    BusinessTypeDefinition,
    EffectiveRules,
    Loc,
    MethodBounds,
    Overridable,
    PolicyBounds,
)
from booklnk.kernel.errors import FieldIssue, ValidationFailed

RuleOverrides: TypeAlias = Mapping[str, object]
"""A business's overrides: rule name (an ``EffectiveRules`` field) -> value."""


def resolve_rules(definition: BusinessTypeDefinition, overrides: RuleOverrides) -> EffectiveRules:
    """Merge a business's overrides into its type's defaults, or raise ``ValidationFailed``
    with one issue per problem (field ``rules.<name>``)."""
    issues: list[FieldIssue] = []
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        issue = _check_override(definition.overridable, name, value)
        if issue is not None:
            issues.append(issue)
        elif name == "payment_methods":
            changes[name] = tuple(cast(Sequence[str], value))
        else:
            changes[name] = value
    merged = replace(definition.default_rules(), **changes)
    merged, policy_issues = _apply_policy(definition, merged, overrides)
    issues += policy_issues
    if issues:
        raise ValidationFailed("The business's rule overrides are invalid.", issues=issues)
    return merged


def _issue(name: str, rule: str, message: str) -> FieldIssue:
    return FieldIssue(f"rules.{name}", rule, message)


def _check_override(overridable: Overridable, name: str, value: object) -> FieldIssue | None:
    if name not in RULE_NAMES:
        return _issue(name, "unknown_rule", f"{name!r} is not a business-type rule")
    if name not in overridable.rules:
        return _issue(name, "not_overridable", f"this business type fixes {name}")
    bounds = overridable.int_bounds(name)
    if bounds is not None:
        if not isinstance(value, int) or isinstance(value, bool):
            return _issue(name, "wrong_type", f"{name} must be an integer")
        if not bounds.min <= value <= bounds.max:
            msg = f"{name} must be within {bounds.min}..{bounds.max}, not {value}"
            return _issue(name, "out_of_bounds", msg)
        return None
    if name == "payment_policy":
        return _check_policy(value, overridable.payment_policy)
    return _check_methods(value, overridable.payment_methods)


def _check_policy(value: object, bounds: PolicyBounds | None) -> FieldIssue | None:
    name, allowed = "payment_policy", bounds.allowed if bounds else ()
    if not isinstance(value, str):
        return _issue(name, "wrong_type", f"{name} must be a string")
    if value not in allowed:
        return _issue(name, "not_allowed", f"{value!r} is not one of {list(allowed)}")
    return None


def _check_methods(value: object, bounds: MethodBounds | None) -> FieldIssue | None:
    name, allowed = "payment_methods", bounds.allowed if bounds else ()
    if not isinstance(value, Sequence) or isinstance(value, str):
        return _issue(name, "wrong_type", f"{name} must be a list of strings")
    if not all(isinstance(item, str) for item in value):
        return _issue(name, "wrong_type", f"{name} must be a list of strings")
    refused = [item for item in value if item not in allowed]
    if refused:
        return _issue(name, "not_allowed", f"{refused} are not among {list(allowed)}")
    if len(set(value)) != len(value):
        return _issue(name, "duplicate", f"{name} lists a method twice")
    return None


def _apply_policy(
    definition: BusinessTypeDefinition, merged: EffectiveRules, overrides: RuleOverrides
) -> tuple[EffectiveRules, list[FieldIssue]]:
    """Make deposit, methods and hold times agree with the (possibly overridden) policy."""
    issues: list[FieldIssue] = []
    deposit = merged.deposit_percent
    if merged.payment_policy == "deposit" and deposit is None:
        issues.append(_issue("deposit_percent", "required", "a deposit policy needs a percent"))
    if merged.payment_policy != "deposit":
        if "deposit_percent" in overrides and "deposit_percent" in definition.overridable.rules:
            msg = "deposit_percent only applies to the 'deposit' policy"
            issues.append(_issue("deposit_percent", "not_applicable", msg))
        deposit = None
    if merged.payment_policy != "pay_at_venue" and not merged.payment_methods:
        msg = f"the {merged.payment_policy!r} policy needs at least one payment method"
        issues.append(_issue("payment_methods", "required", msg))
    holds = definition.payment.hold_minutes
    hold_minutes = {m: holds[m] for m in merged.payment_methods if m in holds}
    return replace(merged, deposit_percent=deposit, hold_minutes=hold_minutes), issues


def validate_booking_fields(rules: EffectiveRules, data: Mapping[str, Any]) -> None:
    """Check a booking's extra fields against the business's schema; one issue per error,
    field ``extra_fields.<path>``, rule = the JSON Schema keyword that failed."""
    validator = Draft202012Validator(
        dict(rules.booking_fields), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    issues: list[FieldIssue] = []
    for error in sorted(validator.iter_errors(dict(data)), key=lambda e: list(e.absolute_path)):
        for path, message in _pinpoint(error):
            issue = FieldIssue(".".join(["extra_fields", *map(str, path)]), error.validator, message)
            if issue not in issues:  # two missing properties give two identical `required` errors
                issues.append(issue)
    if issues:
        raise ValidationFailed("The booking's extra fields are invalid.", issues=issues)


def _pinpoint(error: SchemaViolation) -> list[tuple[Loc, str]]:
    """Point ``required`` and ``additionalProperties`` errors at the property concerned,
    not at the object that holds it, so a form can highlight the right input."""
    base: Loc = tuple(error.absolute_path)
    instance, schema = error.instance, error.schema
    if not isinstance(instance, Mapping) or not isinstance(schema, Mapping):
        return [(base, error.message)]
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [name for name in error.validator_value if name not in instance]
        return [((*base, name), f"{name!r} is required") for name in missing]
    if error.validator == "additionalProperties" and error.validator_value is False:
        known, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
        extra = [
            key
            for key in instance
            if key not in known and not any(re.search(pattern, key) for pattern in patterns)
        ]
        return [((*base, key), f"{key!r} is not an accepted field") for key in extra]
    return [(base, error.message)]
