"""CORS for browser apps on other origins: which requests they may make, which answers
they may read. Off unless origins are configured."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

# Every method a route answers.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Every request header the API reads (a browser asks before sending one that is not
# CORS-safelisted, and Content-Type: application/json is not).
REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "X-Request-ID",
    "Accept",
    "Accept-Language",
)
# Response headers the API's contract gives meaning to; a script reads no other
# (beyond the safelisted ones) unless it is exposed.
EXPOSED_HEADERS = ("ETag", "X-Request-ID", "Idempotent-Replayed", "Retry-After", "Location")


def allow_browsers(app: FastAPI, origins: Sequence[str]) -> None:
    """Outermost, so that every answer the app renders (problems included) carries the
    headers. Bearer tokens, never cookies: credentials are not allowed."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=list(METHODS),
        allow_headers=list(REQUEST_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=600,
    )
