"""Business-type error kinds."""

from __future__ import annotations

from booklnk.kernel.errors import Conflict, NotFound


class BusinessTypeNotFound(NotFound):
    code = "business_type_not_found"


class BusinessTypeExists(Conflict):
    code = "business_type_exists"
