"""Catalog's error kinds, each with a stable code."""

from __future__ import annotations

from booklnk.kernel.errors import Conflict, NotFound


class ServiceNotFound(NotFound):
    code = "service_not_found"


class StaffNotFound(NotFound):
    code = "staff_not_found"


class ResourceNotFound(NotFound):
    code = "resource_not_found"


class TimeOffNotFound(NotFound):
    code = "time_off_not_found"


class DateOverrideNotFound(NotFound):
    code = "date_override_not_found"


class DateOverrideExists(Conflict):
    code = "date_override_exists"


class StaffUserTaken(Conflict):
    code = "staff_user_taken"
