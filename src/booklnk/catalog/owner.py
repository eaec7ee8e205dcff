"""Whose schedule is meant: the business itself, one staff member or one resource."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from booklnk.catalog.models import OwnerKind


@dataclass(frozen=True, slots=True)
class ScheduleOwner:
    kind: OwnerKind
    id: uuid.UUID | None = None  # the staff member's or resource's id; None for the business

    @classmethod
    def business(cls) -> ScheduleOwner:
        return cls(OwnerKind.BUSINESS)

    @classmethod
    def staff(cls, staff_id: uuid.UUID) -> ScheduleOwner:
        return cls(OwnerKind.STAFF, staff_id)

    @classmethod
    def resource(cls, resource_id: uuid.UUID) -> ScheduleOwner:
        return cls(OwnerKind.RESOURCE, resource_id)

    @property
    def staff_id(self) -> uuid.UUID | None:
        return self.id if self.kind is OwnerKind.STAFF else None

    @property
    def resource_id(self) -> uuid.UUID | None:
        return self.id if self.kind is OwnerKind.RESOURCE else None

    def columns(self) -> dict[str, object]:
        """The owner columns of a schedule row."""
        return {"owner_kind": self.kind.value, "staff_id": self.staff_id, "resource_id": self.resource_id}
