"""Who is acting, and in which business: passed explicitly to every use case."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from booklnk.business_types.definition import EffectiveRules
from booklnk.business_types.service import effective_rules
from booklnk.tenancy.models import Role


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: uuid.UUID
    is_platform_admin: bool = False


@dataclass(frozen=True, slots=True)
class BusinessContext:
    """An actor inside one business, with the role they hold there (None: a customer),
    and the business's effective rules, resolved once when the request or job entered
    the business: no use case reads them again."""

    actor: Actor
    business_id: uuid.UUID
    time_zone: str
    business_type_key: str
    role: Role | None
    rules: EffectiveRules = field(repr=False)
    # What `rules` were resolved from: a service's own payment overrides go on top of them.
    definition_text: str = field(repr=False)
    overrides: Mapping[str, Any] = field(repr=False)
    # Customers booking themselves need a proven mobile number (the owner's choice).
    require_phone: bool = False

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    @property
    def is_staff(self) -> bool:
        """Owners can do whatever staff can."""
        return self.role in (Role.OWNER, Role.STAFF)

    def rules_for(self, service_overrides: Mapping[str, Any] | None) -> EffectiveRules:
        """The rules a booking of a service follows: the business's, with the service's
        payment overrides (checked against the type's bounds: a 422 names `rules.<name>`)."""
        if not service_overrides:
            return self.rules
        return effective_rules(self.definition_text, {**self.overrides, **service_overrides})
