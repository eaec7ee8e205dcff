"""An owner's business rules within the type's bounds:
booking rules, payment policy and notification settings."""

from __future__ import annotations

from fastapi import APIRouter

from booklnk.web.guard import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
