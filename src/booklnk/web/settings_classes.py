"""An owner's class series: a weekly timetable that makes class sessions."""

from __future__ import annotations

from fastapi import APIRouter

from booklnk.web.guard import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
