"""An owner's hours: the business's weekly hours with breaks,
each staff member's own week, special dates and staff time off."""

from __future__ import annotations

from fastapi import APIRouter

from booklnk.web.guard import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
