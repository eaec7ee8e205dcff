"""An owner's webhook endpoints: add, list, their deliveries, redeliver, remove."""

from __future__ import annotations

from fastapi import APIRouter

from booklnk.web.guard import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
