"""Who is acting, and in which business: passed explicitly to every use case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from booklnk.tenancy.models import Role


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: uuid.UUID
    is_platform_admin: bool = False


@dataclass(frozen=True, slots=True)
class BusinessContext:
    """An actor inside one business, with the role they hold there (None: a customer)."""

    actor: Actor
    business_id: uuid.UUID
    time_zone: str
    business_type_key: str
    role: Role | None

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    @property
    def is_staff(self) -> bool:
        """Owners can do whatever staff can."""
        return self.role in (Role.OWNER, Role.STAFF)
