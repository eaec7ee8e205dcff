"""Customer record error kinds with stable codes."""

from __future__ import annotations

from booklnk.kernel.errors import Conflict, NotFound


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CustomerExists(Conflict):
    """Another record of this business has the number (`extra.customer_id` names it)."""

    code = "customer_exists"
